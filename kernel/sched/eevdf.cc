// The EEVDF run queue. The algorithm and its arithmetic are described in docs/eevdf.md; the
// comments here say why each step is the way it is.
#include "kernel/sched/eevdf.h"

#include <limits>

#include "kernel/base/debug.h"
#include "lib/assert.h"

namespace lichen::sched {

namespace {

using Int128 = __int128;
using UInt128 = unsigned __int128;

// floor(n / d) for an unsigned 128-bit n whose quotient fits in 64 bits (n >> 64 < d), by
// binary long division: 64 steps of shift, compare and subtract, all inline 128-bit operations
// (no __udivti3). The remainder stays below d < 2^64, so `rem << 1` fits in 65 bits.
uint64_t LongDivide(UInt128 n, uint64_t d) {
  UInt128 rem = static_cast<uint64_t>(n >> 64);
  const uint64_t lo = static_cast<uint64_t>(n);
  uint64_t q = 0;
  for (int bit = 63; bit >= 0; --bit) {
    rem = (rem << 1) | ((lo >> bit) & 1);
    q <<= 1;
    if (rem >= d) {
      rem -= d;
      q |= 1;
    }
  }
  return q;
}

// The most lag an entity keeps: Linux's max(2 slices, a tick) of real time, in its virtual time
// (update_entity_lag / entity_lag).
int64_t LagLimit(const SchedEntity& se) {
  const uint64_t limit_ns = se.slice_ns * 2 > kTickNs ? se.slice_ns * 2 : kTickNs;
  return static_cast<int64_t>(CalcDeltaFair(limit_ns, se.weight));
}

// V - v, clamped to LagLimit as Linux's entity_lag() does, so that a long wait or a long run is
// not carried forever.
int64_t ClampedVlag(uint64_t avg, const SchedEntity& se) {
  const int64_t limit = LagLimit(se);
  const int64_t vlag = VDiff(avg, se.vruntime);
  if (LICHEN_FAULT(no_lag_clamp)) return vlag;
  return vlag < -limit ? -limit : (vlag > limit ? limit : vlag);
}

}  // namespace

int64_t FloorDiv128(__int128 a, uint64_t d) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (a >= kMin && a <= kMax && d <= static_cast<uint64_t>(kMax)) {
    // The common case: everything fits a 64-bit division, which truncates toward zero; step
    // down once for a negative inexact quotient (Linux's avg_vruntime does `avg -= load - 1`).
    const int64_t x = static_cast<int64_t>(a);
    const int64_t dd = static_cast<int64_t>(d);
    int64_t q = x / dd;
    if (x % dd != 0 && x < 0) --q;
    return q;
  }
  LICHEN_DEBUG_ASSERT(d > 0);
  if (a >= 0) return static_cast<int64_t>(LongDivide(static_cast<UInt128>(a), d));
  // floor(-m / d) = -ceil(m / d) = -floor((m + d - 1) / d) for m = -a > 0.
  const UInt128 m = static_cast<UInt128>(-(a + 1)) + 1;
  return -static_cast<int64_t>(LongDivide(m + (d - 1), d));
}

void SchedEntity::SetNice(int new_nice) {
  LICHEN_DEBUG_ASSERT(!on_rq, "SetNice on a queued entity: use RunQueue::Reweight");
  new_nice = ClampNice(new_nice);
  const uint32_t new_weight = WeightForNice(new_nice);
  // vlag is virtual (V - v): the same real-time lag at the new weight is vlag * w / w'. Linux
  // scales it the same way (reweight_entity), truncating toward zero.
  vlag = MulDivTrunc(vlag, weight, new_weight);
  debug_lag_limit = MulDivTrunc(debug_lag_limit, weight, new_weight);
  debug_saved_vlag = MulDivTrunc(debug_saved_vlag, weight, new_weight);
  if (rel_deadline) {
    deadline =
        static_cast<uint64_t>(MulDivTrunc(static_cast<int64_t>(deadline), weight, new_weight));
  }
  nice = new_nice;
  weight = new_weight;
}

void SchedEntity::SetSliceNs(uint64_t new_slice_ns) {
  if (new_slice_ns == 0) {
    // Back to the default: the queue stores its base slice at the next placement or renewal.
    custom_slice = false;
    return;
  }
  slice_ns = ClampSliceNs(new_slice_ns);
  custom_slice = true;
}

RunQueue::RunQueue(uint32_t ncpus, uint64_t initial_vruntime)
    : v0_(initial_vruntime), base_slice_ns_(sched::BaseSliceNs(ncpus)) {}

uint64_t RunQueue::AvgVruntime() const {
  if (avg_load_ == 0) return v0_;
  return v0_ + static_cast<uint64_t>(FloorDiv128(avg_sum_, avg_load_));
}

bool RunQueue::VruntimeEligible(uint64_t vruntime) const {
  // V >= v with V = v0 + floor(A / W) is the same as A >= (v - v0) * W (v is an integer), and
  // needs no division. |v - v0| < 2^62 and W < 2^40 keep the product far inside 128 bits.
  return avg_sum_ >= static_cast<Int128>(VDiff(vruntime, v0_)) * static_cast<Int128>(avg_load_);
}

int64_t RunQueue::Lag(const SchedEntity& se) const {
  return VDiff(AvgVruntime(), se.vruntime) * static_cast<int64_t>(se.weight);
}

void RunQueue::AvgAdd(const SchedEntity& se) {
  avg_sum_ += static_cast<Int128>(VDiff(se.vruntime, v0_)) * se.weight;
  avg_load_ += se.weight;
}

void RunQueue::AvgSub(const SchedEntity& se) {
  avg_sum_ -= static_cast<Int128>(VDiff(se.vruntime, v0_)) * se.weight;
  avg_load_ -= se.weight;
}

void RunQueue::UpdateBase() {
  // The smallest queued vruntime: the current entity's and the tree root's subtree minimum.
  const SchedEntity* root = tree_.Root();
  uint64_t lowest;
  if (curr_ != nullptr) {
    lowest = root != nullptr ? VMin(curr_->vruntime, root->min_vruntime) : curr_->vruntime;
  } else if (root != nullptr) {
    lowest = root->min_vruntime;
  } else {
    return;  // Empty: keep v0 where it is (it is what an empty queue reports as V).
  }
  const int64_t delta = VDiff(lowest, v0_);
  if (delta > 0) {
    // Every key v_i - v0 shrinks by delta, so A shrinks by W * delta.
    avg_sum_ -= static_cast<Int128>(delta) * static_cast<Int128>(avg_load_);
    v0_ = lowest;
  }
}

bool RunQueue::UpdateCurrent(uint64_t now_ns) {
  SchedEntity* se = curr_;
  if (se == nullptr) return false;
  const int64_t delta_ns = static_cast<int64_t>(now_ns - se->exec_start_ns);
  if (delta_ns <= 0) return false;
  se->exec_start_ns = now_ns;
  se->sum_exec_ns += static_cast<uint64_t>(delta_ns);
  const uint64_t dv = CalcDeltaFair(static_cast<uint64_t>(delta_ns), se->weight);
  se->vruntime += dv;
  // The current entity stays in the average: its key grew by dv.
  avg_sum_ += static_cast<Int128>(dv) * se->weight;
  bool renewed = false;
  if (VDiff(se->vruntime, se->deadline) >= 0) {
    // The request is used up: issue the next one from here (vd = ve + r / w).
    if (!se->custom_slice) se->slice_ns = base_slice_ns_;
    se->deadline = se->vruntime + CalcDeltaFair(se->slice_ns, se->weight);
    renewed = true;
  }
  UpdateBase();
  return renewed;
}

void RunQueue::Place(SchedEntity& se, bool initial) {
  if constexpr (kDebugChecks) {
    // The lag an entity brings back is within Linux's clamp as it was when Dequeue saved it
    // (its slice may have changed since). Checked here, where the lag is used, and not where
    // it is clamped: the EEVDF lag bound is wider and absorbs a missing clamp.
    const int64_t limit = se.debug_lag_limit;
    if (limit != 0 && se.vlag == se.debug_saved_vlag) {
      LICHEN_ASSERT(se.vlag <= limit && se.vlag >= -limit,
                    "lag outside Linux's clamp: entity {} brings lag {} (virtual ns), clamp {} "
                    "(max(2 slices, a tick) at weight {})",
                    se.id, se.vlag, limit, se.weight);
    }
    se.debug_lag_limit = 0;
  }
  const uint64_t avg = AvgVruntime();
  int64_t lag = 0;
  if (nr_queued_ > 0 && se.vlag != 0) {
    // Adding an entity with lag L moves V by -w * L / (W + w); inflating the lag by
    // (W + w) / W first means the entity ends up with exactly its saved lag against the new V.
    // vlag * (W + w) / W = vlag + vlag * w / W, and both terms have vlag's sign, so truncating
    // the second equals Linux's truncating div_s64 of the whole. |vlag| * w <= 2 * kMaxSliceNs *
    // 1024 (the dequeue clamp, kept by SetNice's scaling), so nothing here nears 2^63.
    lag = se.vlag + MulDivTrunc(se.vlag, se.weight, avg_load_);
  }
  se.vruntime = avg - static_cast<uint64_t>(lag);
  if (se.rel_deadline) {
    // PLACE_REL_DEADLINE: a migrating entity keeps the remainder of its request.
    se.deadline += se.vruntime;
    se.rel_deadline = false;
    return;
  }
  uint64_t vslice = CalcDeltaFair(se.slice_ns, se.weight);
  // PLACE_DEADLINE_INITIAL: the others are on average half-way through their slice.
  if (initial) vslice /= 2;
  se.deadline = se.vruntime + vslice;
}

void RunQueue::Enqueue(SchedEntity& se, EnqueueFlags flags, uint64_t now_ns) {
  LICHEN_ASSERT(!se.on_rq, "enqueue of entity {} that is already queued", se.id);
  LICHEN_DEBUG_ASSERT(!Tree::IsInTree(se) && !WaitList::IsLinked(se));
  // V must include the current entity's runtime up to now before it is used for placement.
  UpdateCurrent(now_ns);
  if (!se.custom_slice) se.slice_ns = base_slice_ns_;
  const bool initial = (flags & kEnqueueNew) != 0 || se.new_task;
  if ((flags & kEnqueueNew) != 0) se.vlag = 0;
  Place(se, initial);
  se.new_task = false;
  AvgAdd(se);
  LICHEN_DEBUG_ASSERT(avg_load_ < (uint64_t{1} << 40), "queue load {} too large", avg_load_);
  tree_.Insert(se);
  waiting_.PushBack(se);
  se.wait_start_ns = now_ns;
  se.on_rq = true;
  ++nr_queued_;
  // The current entity is protected for at most one slice of the shortest request queued:
  // a shorter request arriving shortens what is left of the protection.
  if (curr_ != nullptr && se.slice_ns < curr_->slice_ns) {
    curr_->vprot = VMin(curr_->vprot, curr_->vruntime + CalcDeltaFair(se.slice_ns, curr_->weight));
  }
}

void RunQueue::Dequeue(SchedEntity& se, DequeueFlags flags, uint64_t now_ns) {
  LICHEN_ASSERT(se.on_rq, "dequeue of entity {} that is not queued", se.id);
  UpdateCurrent(now_ns);
  // Save the virtual lag against V (which still includes se), clamped.
  se.vlag = ClampedVlag(AvgVruntime(), se);
  se.debug_lag_limit = LagLimit(se);
  se.debug_saved_vlag = se.vlag;
  if ((flags & kDequeueMigrate) != 0) {
    se.deadline -= se.vruntime;
    se.rel_deadline = true;
  }
  if (&se == curr_) {
    curr_ = nullptr;
  } else {
    tree_.Remove(se);
    waiting_.Remove(se);
  }
  AvgSub(se);
  se.on_rq = false;
  --nr_queued_;
  UpdateBase();
}

SchedEntity* RunQueue::Pick(bool protect) const {
  SchedEntity* curr = curr_;
  if (curr != nullptr && !Eligible(*curr)) curr = nullptr;
  // RUN_TO_PARITY: once switched to, an eligible entity keeps the CPU until its vprot.
  if (curr != nullptr && protect && Protected(*curr)) return curr;

  SchedEntity* best = nullptr;
  SchedEntity* first = tree_.First();
  if (first != nullptr && Eligible(*first)) {
    best = first;  // The earliest deadline of all is eligible: nothing can beat it.
  } else {
    // Walk down from the root. Everything in a left subtree has an earlier deadline than the
    // node, and the node than its right subtree; so go left whenever the left subtree holds
    // an eligible entity (its minimum vruntime is eligible), else take this node if it is
    // eligible, else only the right subtree can hold the answer.
    SchedEntity* node = tree_.Root();
    while (node != nullptr) {
      SchedEntity* left = tree_.Left(*node);
      if (left != nullptr && VruntimeEligible(left->min_vruntime)) {
        node = left;
        continue;
      }
      if (Eligible(*node)) {
        best = node;
        break;
      }
      node = tree_.Right(*node);
    }
  }
  if (curr != nullptr && (best == nullptr || TreeTraits::Less(*curr, *best))) best = curr;
  // Some queued entity always has v <= V (V is a weighted mean, floored to an integer >= the
  // smallest v), so an empty answer means an empty queue.
  LICHEN_DEBUG_ASSERT(best != nullptr || nr_queued_ == 0);
  return best;
}

SchedEntity* RunQueue::PickNext(uint64_t now_ns) {
  UpdateCurrent(now_ns);
  return Pick(/*protect=*/true);
}

void RunQueue::SetCurrent(SchedEntity* se, uint64_t now_ns) {
  if (curr_ != nullptr) {
    UpdateCurrent(now_ns);
    if (se == curr_) return;
    // The previous entity is still queued: it goes back to waiting.
    tree_.Insert(*curr_);
    waiting_.PushBack(*curr_);
    curr_->wait_start_ns = now_ns;
    curr_ = nullptr;
  }
  if (se == nullptr) return;
  LICHEN_ASSERT(se->on_rq && Tree::IsInTree(*se), "SetCurrent of entity {} not in the tree",
                se->id);
  tree_.Remove(*se);
  waiting_.Remove(*se);
  se->exec_start_ns = now_ns;
  // RUN_TO_PARITY (Linux 6.16+): protect the entity from wakeup preemption until its
  // deadline, but for no longer than one slice of the shortest request queued, so that a
  // short-slice task that becomes eligible meanwhile waits at most that long.
  uint64_t min_slice = se->slice_ns;
  if (const SchedEntity* root = tree_.Root(); root != nullptr && root->min_slice_ns < min_slice) {
    min_slice = root->min_slice_ns;
  }
  se->vprot = VMin(se->deadline, se->vruntime + CalcDeltaFair(min_slice, se->weight));
  curr_ = se;
}

bool RunQueue::ShouldPreempt(const SchedEntity& woken, uint64_t now_ns) {
  LICHEN_DEBUG_ASSERT(woken.on_rq, "ShouldPreempt for entity {} that is not queued", woken.id);
  if (curr_ == nullptr) return true;
  if (&woken == curr_) return false;
  UpdateCurrent(now_ns);
  SchedEntity& curr = *curr_;
  // PREEMPT_SHORT: a shorter request that is eligible and would run before the current entity
  // (or the current entity is no longer eligible) lifts the protection, for good.
  if (woken.slice_ns < curr.slice_ns && Eligible(woken) &&
      (TreeTraits::Less(woken, curr) || !Eligible(curr)) && Protected(curr)) {
    curr.vprot = curr.vruntime;
  }
  return Pick(/*protect=*/true) == &woken;
}

namespace {

// Real nanoseconds for an entity of `weight` to advance its vruntime by `dv` (> 0): the
// smallest t with floor(t * 1024 / weight) >= dv, that is ceil(dv * weight / 1024), minus
// what is already run but not yet charged. At least 1. Dividing by 1024 is a shift, so the
// 128-bit product needs no division helper.
uint64_t RealNsFor(int64_t dv, uint32_t weight, int64_t pending_ns) {
  const UInt128 need = (static_cast<UInt128>(dv) * weight + (kNice0Weight - 1)) >> 10;
  const UInt128 charged = pending_ns > 0 ? static_cast<UInt128>(pending_ns) : 0;
  if (need <= charged) return 1;
  const UInt128 left = need - charged;
  return left > kNoDeadline ? kNoDeadline : static_cast<uint64_t>(left);
}

}  // namespace

uint64_t RunQueue::NsUntilDeadline(uint64_t now_ns) const {
  if (curr_ == nullptr) return kNoDeadline;
  const int64_t dv = VDiff(curr_->deadline, curr_->vruntime);
  if (dv <= 0) return 1;
  return RealNsFor(dv, curr_->weight, static_cast<int64_t>(now_ns - curr_->exec_start_ns));
}

uint64_t RunQueue::NsUntilDecision(uint64_t now_ns) const {
  if (curr_ == nullptr) return kNoDeadline;
  const SchedEntity& curr = *curr_;
  const int64_t pending = static_cast<int64_t>(now_ns - curr.exec_start_ns);
  const uint64_t until_deadline = NsUntilDeadline(now_ns);
  // The smallest vruntime among waiting entities with an earlier deadline (the "rivals": the
  // first of them to become eligible takes the CPU). Everything left of a node in the tree has
  // an earlier deadline still; O(log n) with the subtree minima.
  bool have_rival = false;
  uint64_t rival_v = 0;
  for (const SchedEntity* node = tree_.Root(); node != nullptr;) {
    if (TreeTraits::Less(*node, curr)) {
      uint64_t m = node->vruntime;
      if (const SchedEntity* left = tree_.Left(*node)) m = VMin(m, left->min_vruntime);
      rival_v = have_rival ? VMin(rival_v, m) : m;
      have_rival = true;
      node = tree_.Right(*node);
    } else {
      node = tree_.Left(*node);
    }
  }
  if (!have_rival) return until_deadline;
  // When does the first rival become eligible? While only the current entity runs, A grows by
  // w_c for each virtual ns it is charged, and the rival is eligible once
  // A >= (v_r - v0) * W: the current entity needs dv = ceil(((v_r - v0) * W - A) / w_c) more
  // virtual ns, which it gets after RealNsFor(dv) of running, counted from its last charge.
  // (Estimating "1024 of A per real ns" instead is off by the floor in every charge: a heavy
  // task charged every few ns advances no vruntime at all, and the timer would fire forever.)
  uint64_t until_rival = 1;
  const Int128 gap =
      static_cast<Int128>(VDiff(rival_v, v0_)) * static_cast<Int128>(avg_load_) - avg_sum_;
  if (gap > 0) {
    const Int128 ceil_num = gap + (curr.weight - 1);
    const Int128 max_dv = static_cast<Int128>(std::numeric_limits<int64_t>::max());
    if (ceil_num > max_dv * curr.weight) {
      until_rival = kNoDeadline;  // too far to matter: the deadline comes first
    } else {
      const int64_t dv = FloorDiv128(ceil_num, curr.weight);
      until_rival = RealNsFor(dv, curr.weight, pending);
    }
  }
  // Until its protection ends the current entity keeps the CPU anyway.
  const int64_t protect_dv = VDiff(curr.vprot, curr.vruntime);
  const uint64_t until_unprotected =
      protect_dv > 0 ? RealNsFor(protect_dv, curr.weight, pending) : 1;
  const uint64_t until_rival_wins =
      until_rival > until_unprotected ? until_rival : until_unprotected;
  return until_rival_wins < until_deadline ? until_rival_wins : until_deadline;
}

void RunQueue::SetSlice(SchedEntity& se, uint64_t slice_ns) {
  se.SetSliceNs(slice_ns);
  if (se.on_rq && Tree::IsInTree(se)) tree_.UpdateAugmentedPath(se);
}

void RunQueue::YieldCurrent(uint64_t now_ns) {
  UpdateCurrent(now_ns);
  if (curr_ == nullptr || nr_queued_ == 1) return;
  curr_->deadline += CalcDeltaFair(curr_->slice_ns, curr_->weight);
  curr_->vprot = curr_->vruntime;
}

void RunQueue::Reweight(SchedEntity& se, int nice, uint64_t now_ns) {
  nice = ClampNice(nice);
  if (!se.on_rq) {
    se.SetNice(nice);
    return;
  }
  UpdateCurrent(now_ns);
  const uint32_t old_weight = se.weight;
  const uint32_t new_weight = WeightForNice(nice);
  const uint64_t avg = AvgVruntime();
  const bool in_tree = &se != curr_;
  // The scaled distances must fit int64 at any weight ratio (up to 88761 / 15 < 2^13): true
  // for anything within 2^50 virtual ns (13 days) of V, far beyond any sane lag or request.
  constexpr int64_t kLimit = int64_t{1} << 50;
  LICHEN_DEBUG_ASSERT(VDiff(avg, se.vruntime) < kLimit && VDiff(se.vruntime, avg) < kLimit &&
                      VDiff(se.deadline, avg) < kLimit && VDiff(avg, se.deadline) < kLimit);
  if (in_tree) tree_.Remove(se);  // Its key (the deadline) changes.
  AvgSub(se);
  // First clamp the lag exactly as a dequeue would, at the old weight (Linux 6.9+, and the
  // 6.6.y/6.8.y stable trees: reweight_eevdf() through entity_lag()). Without it, an entity that
  // ran far ahead at a high weight keeps its whole debt scaled up by w / w': a nice -20 task
  // reniced to +8 after 158 ms alone would keep ~80 ms of weighted lag where Linux keeps one
  // clamp's worth. The clamp moves V slightly, as it does in Linux.
  // Then keep the real-time distances to V: lag and request scale by w / w'. Otherwise V stays
  // put because w' * (V - v') = w * (V - v) (up to truncation).
  se.vruntime =
      avg - static_cast<uint64_t>(MulDivTrunc(ClampedVlag(avg, se), old_weight, new_weight));
  se.deadline =
      avg + static_cast<uint64_t>(MulDivTrunc(VDiff(se.deadline, avg), old_weight, new_weight));
  if (!in_tree) {
    se.vprot =
        avg + static_cast<uint64_t>(MulDivTrunc(VDiff(se.vprot, avg), old_weight, new_weight));
  }
  se.nice = nice;
  se.weight = new_weight;
  AvgAdd(se);
  if (in_tree) tree_.Insert(se);
}

SchedEntity* RunQueue::OldestWaiting() const {
  return waiting_.Front();
}

SchedEntity* RunQueue::NextWaiting(const SchedEntity& se) const {
  LICHEN_DEBUG_ASSERT(se.on_rq && &se != curr_, "NextWaiting of an entity that is not waiting");
  return waiting_.Next(const_cast<SchedEntity&>(se));
}

void RunQueue::CheckInvariants() const {
  const uint32_t in_tree = static_cast<uint32_t>(tree_.Size());
  LICHEN_ASSERT(nr_queued_ == in_tree + (curr_ != nullptr ? 1u : 0u), "nr_queued {} tree {}",
                nr_queued_, in_tree);
  LICHEN_ASSERT(waiting_.Size() == tree_.Size(), "waiting list {} tree {}", waiting_.Size(),
                tree_.Size());

  // Recompute A and W from scratch.
  Int128 sum = 0;
  uint64_t load = 0;
  if (curr_ != nullptr) {
    LICHEN_ASSERT(curr_->on_rq && !Tree::IsInTree(*curr_) && !WaitList::IsLinked(*curr_));
    sum += static_cast<Int128>(VDiff(curr_->vruntime, v0_)) * curr_->weight;
    load += curr_->weight;
  }
  // The tree's shape, order and red-black rules, and the augmentation at every node.
  const char* tree_error = tree_.Validate(
      [](const SchedEntity& node, const SchedEntity* left, const SchedEntity* right) {
        // Both augmentations: the subtree's smallest vruntime (the pick's walk) and its
        // smallest slice (the bound on the current entity's protection).
        uint64_t expect = node.vruntime;
        uint64_t slice = node.slice_ns;
        if (left != nullptr) {
          expect = VMin(expect, left->min_vruntime);
          slice = left->min_slice_ns < slice ? left->min_slice_ns : slice;
        }
        if (right != nullptr) {
          expect = VMin(expect, right->min_vruntime);
          slice = right->min_slice_ns < slice ? right->min_slice_ns : slice;
        }
        return node.min_vruntime == expect && node.min_slice_ns == slice;
      });
  LICHEN_ASSERT(tree_error == nullptr, "run queue tree: {}", tree_error);
  for (const SchedEntity& se : tree_) {
    LICHEN_ASSERT(se.on_rq && !se.rel_deadline && WaitList::IsLinked(se), "entity {}", se.id);
    LICHEN_ASSERT(se.weight == WeightForNice(se.nice), "entity {} weight {}", se.id, se.weight);
    sum += static_cast<Int128>(VDiff(se.vruntime, v0_)) * se.weight;
    load += se.weight;
  }
  LICHEN_ASSERT(sum == avg_sum_ && load == avg_load_, "average drifted: load {} vs {}", load,
                avg_load_);

  // Waiting list: exactly the tree's entities.
  size_t waiting = 0;
  for (const SchedEntity& se : waiting_) {
    LICHEN_ASSERT(se.on_rq && Tree::IsInTree(se) && &se != curr_, "waiting entity {}", se.id);
    ++waiting;
  }
  LICHEN_ASSERT(waiting == tree_.Size());

  if (nr_queued_ == 0) return;
  // Documented bounds: every queued vruntime and deadline within kMaxVirtualSpread of V (so
  // all wrap-safe comparisons hold), and the floor in V leaves -W < sum w_i (V - v_i) <= 0.
  const uint64_t avg = AvgVruntime();
  const auto spread_ok = [avg](uint64_t t) {
    const int64_t d = VDiff(t, avg);
    return (d < 0 ? -static_cast<uint64_t>(d) : static_cast<uint64_t>(d)) < kMaxVirtualSpread;
  };
  Int128 lag_sum = 0;
  const auto check_entity = [&](const SchedEntity& se) {
    LICHEN_ASSERT(spread_ok(se.vruntime) && spread_ok(se.deadline), "entity {} too far from V",
                  se.id);
    lag_sum += static_cast<Int128>(VDiff(avg, se.vruntime)) * se.weight;
  };
  if (curr_ != nullptr) check_entity(*curr_);
  for (const SchedEntity& se : tree_)
    check_entity(se);
  LICHEN_ASSERT(lag_sum <= 0 && lag_sum > -static_cast<Int128>(avg_load_), "sum of lags");
}

}  // namespace lichen::sched
