// The EEVDF run queue: one CPU's set of runnable tasks, ordered for Earliest Eligible Virtual
// Deadline First as Linux (6.6+) schedules its fair class.
//
// Each queued entity has a virtual runtime v (real runtime scaled by 1024 / weight) and a
// virtual deadline d = v + slice * 1024 / weight. The queue's average vruntime V (weighted by
// weight) splits entities into eligible (v <= V: they are owed service) and not. PickNext
// returns the eligible entity with the earliest deadline, in O(log n), from a red-black tree
// keyed by (deadline, id) and augmented with each subtree's minimum vruntime.
//
// One RunQueue per CPU; every call comes from the owning CPU with its IRQs masked, so there is
// no locking inside. There is no clock inside either: every operation that depends on time is
// passed `now_ns`, which must not go backwards between calls on one queue.
//
// The page docs/eevdf.md explains the algorithm, the arithmetic and its overflow bounds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/sched/weights.h"
#include "lib/list.h"
#include "lib/rbtree.h"
#include "lib/units.h"

namespace lichen::sched {

// ---- Constants --------------------------------------------------------------------------------

// Smallest and largest slice a task may request; requests are clamped to this range.
inline constexpr uint64_t kMinSliceNs = 100 * kUs;
inline constexpr uint64_t kMaxSliceNs = 100 * kMs;
// Linux's TICK_NSEC; used only as the floor of the lag clamp (a tick of lag is always kept).
inline constexpr uint64_t kTickNs = kMs;
// The default slice per ilog2 step of the CPU count (Linux's sysctl_sched_base_slice, 0.70 ms).
inline constexpr uint64_t kBaseSliceUnitNs = 700 * kUs;
// Vruntime a fresh RunQueue starts from: 2^64 - 2^20, as Linux does, so that the wrap of the
// u64 virtual clock happens within the first millisecond of virtual time and is always tested.
inline constexpr uint64_t kInitialVruntime = ~uint64_t{0} - (uint64_t{1} << 20) + 1;
// Any two queued vruntimes or deadlines are within this distance (checked by CheckInvariants);
// it keeps the wrap-safe signed comparisons valid with a wide margin (Linux assumes < 2^63).
inline constexpr uint64_t kMaxVirtualSpread = uint64_t{1} << 61;
// NsUntilDeadline's answer when no entity is current: no slice timer is needed.
inline constexpr uint64_t kNoDeadline = ~uint64_t{0};

// The default slice on a machine of `ncpus` CPUs: 0.70 ms x (1 + ilog2(min(ncpus, 8))), that is
// 0.70, 1.40, 2.10 or 2.80 ms, as Linux scales sysctl_sched_base_slice. ncpus 0 counts as 1.
constexpr uint64_t BaseSliceNs(uint32_t ncpus) {
  uint32_t n = ncpus == 0 ? 1 : (ncpus > 8 ? 8 : ncpus);
  uint32_t log2 = 0;
  while (n > 1) {
    n >>= 1;
    ++log2;
  }
  return kBaseSliceUnitNs * (1 + log2);
}

// `slice_ns` clamped to kMinSliceNs..kMaxSliceNs.
constexpr uint64_t ClampSliceNs(uint64_t slice_ns) {
  return slice_ns < kMinSliceNs ? kMinSliceNs : (slice_ns > kMaxSliceNs ? kMaxSliceNs : slice_ns);
}

// ---- Wrap-safe virtual-time arithmetic --------------------------------------------------------

// a - b on the u64 virtual clock, as a signed distance (valid while |a - b| < 2^63).
constexpr int64_t VDiff(uint64_t a, uint64_t b) {
  return static_cast<int64_t>(a - b);
}
// Whichever of a, b comes first on the virtual clock.
constexpr uint64_t VMin(uint64_t a, uint64_t b) {
  return VDiff(a, b) < 0 ? a : b;
}

// Real nanoseconds -> virtual nanoseconds at `weight`: floor(delta_ns * 1024 / weight) (Linux's
// calc_delta_fair, computed exactly rather than with an inverse-weight table). Only 64-bit
// divisions; the result must fit in 64 bits (any delta below 2^64 * weight / 1024).
constexpr uint64_t CalcDeltaFair(uint64_t delta_ns, uint32_t weight) {
  if (weight == kNice0Weight) return delta_ns;
  if (delta_ns < (uint64_t{1} << 53)) return (delta_ns << 10) / weight;
  // delta = q * weight + r  =>  delta * 1024 / weight = q * 1024 + r * 1024 / weight, exactly.
  return (delta_ns / weight) * kNice0Weight + ((delta_ns % weight) << 10) / weight;
}

// trunc(x * mul / div), rounding toward zero like Linux's div_s64, with 64-bit divisions only.
// Write x = q * div + r (C++ division, r has x's sign, |r| < div); then
// x * mul / div = q * mul + r * mul / div, and both terms have x's sign, so truncating the
// second truncates the sum. No intermediate overflows as long as mul * div < 2^63 (weights and
// loads here: mul <= 88761 < 2^17, div < 2^40) and the result itself fits in int64.
constexpr int64_t MulDivTrunc(int64_t x, uint64_t mul, uint64_t div) {
  const int64_t m = static_cast<int64_t>(mul);
  const int64_t d = static_cast<int64_t>(div);
  return (x / d) * m + ((x % d) * m) / d;
}

// floor(a / d) for a 128-bit signed a and 64-bit d > 0, when the quotient fits in int64.
// Avoids 128-bit division (a runtime helper on aarch64): the common case is one 64-bit
// division; wider numerators take a 64-step shift-and-subtract long division.
int64_t FloorDiv128(__int128 a, uint64_t d);

// ---- Flags ------------------------------------------------------------------------------------

// Why an entity is enqueued. Combine with |.
enum EnqueueFlags : uint32_t {
  kEnqueueNone = 0,
  // Back from sleep: placed with its saved lag (PLACE_LAG).
  kEnqueueWakeup = 1u << 0,
  // Brand-new task: lag 0 and half a slice to its first deadline (PLACE_DEADLINE_INITIAL).
  kEnqueueNew = 1u << 1,
  // Arriving from another CPU: PLACE_LAG, and PLACE_REL_DEADLINE when rel_deadline is set.
  kEnqueueMigrated = 1u << 2,
};
constexpr EnqueueFlags operator|(EnqueueFlags a, EnqueueFlags b) {
  return static_cast<EnqueueFlags>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}

// Why an entity is dequeued. Every dequeue saves the entity's clamped virtual lag.
enum DequeueFlags : uint32_t {
  kDequeueNone = 0,
  // Going to sleep (blocking).
  kDequeueSleep = 1u << 0,
  // Leaving for another CPU: also keep the deadline relative to vruntime (rel_deadline).
  kDequeueMigrate = 1u << 1,
};
constexpr DequeueFlags operator|(DequeueFlags a, DequeueFlags b) {
  return static_cast<DequeueFlags>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}

// ---- The schedulable entity -------------------------------------------------------------------

// A task's scheduling state, embedded in the lead's Task. Plain data with member initialisers;
// it belongs to at most one RunQueue at a time (on_rq), and only that queue's CPU touches it.
struct alignas(64) SchedEntity {
  // The first 64 bytes are what a tree walk reads at each node (links, key, augmentation), and
  // the entity is cache-line aligned, so that one cache line serves a visit (this halves the
  // misses of a walk over a queue larger than the caches: see docs/perf.md).
  // Node in the run queue's tree (not linked while the entity is current or dequeued).
  RbNode tree_node;
  // Virtual deadline; while rel_deadline is set, deadline minus vruntime instead.
  uint64_t deadline = 0;
  // Virtual runtime (u64 clock, compare with VDiff).
  uint64_t vruntime = 0;
  // Minimum vruntime in this entity's subtree of the queue's tree (the augmentation).
  uint64_t min_vruntime = 0;
  // Minimum slice_ns in this entity's subtree (the augmentation): the queue's shortest request
  // bounds the current entity's protection (RUN_TO_PARITY as Linux 6.16+).
  uint64_t min_slice_ns = 0;
  // Unique id: breaks ties between equal deadlines so the tree order is total.
  uint64_t id = 0;
  // Nice level (-20..19) and the weight derived from it; change them with SetNice/Reweight.
  int nice = 0;
  uint32_t weight = kNice0Weight;
  // Requested slice (real ns). Without custom_slice it follows the queue's base slice.
  uint64_t slice_ns = BaseSliceNs(1);
  // Virtual lag V - v saved at dequeue (clamped), used to place the entity on its next enqueue.
  int64_t vlag = 0;
  // Debug builds: the clamp Dequeue applied and the lag it saved, scaled by SetNice like vlag,
  // so that Place can check the lag it uses against Linux's clamp. (A test may set vlag
  // directly: the two then differ and nothing is checked.)
  int64_t debug_lag_limit = 0;
  int64_t debug_saved_vlag = 0;
  // RUN_TO_PARITY: while current, wakeups do not preempt it before its vruntime reaches vprot:
  // its deadline, or one slice of the queue's shortest request if that comes first.
  uint64_t vprot = 0;
  // True when slice_ns was requested with SetSliceNs and must not follow the base slice.
  bool custom_slice = false;
  // True while queued on a RunQueue (in its tree, or its current entity).
  bool on_rq = false;
  // True between a migrating dequeue and the next enqueue: deadline is relative to vruntime.
  bool rel_deadline = false;
  // True until the first enqueue ever: that one gets half a slice (PLACE_DEADLINE_INITIAL).
  bool new_task = true;
  // Node in the queue's waiting list (queued, not current), oldest waiter at the front.
  ListNode wait_node;
  // When the entity last became current (real ns); the next UpdateCurrent charges from here.
  uint64_t exec_start_ns = 0;
  // Total real runtime charged to the entity.
  uint64_t sum_exec_ns = 0;
  // When the entity last started waiting in the queue (enqueue, or losing the CPU).
  uint64_t wait_start_ns = 0;

  // Sets nice/weight of an entity that is on no queue (use RunQueue::Reweight otherwise). Its
  // saved vlag, and a relative deadline, are scaled by old/new weight so that they stand for the
  // same amount of real time.
  void SetNice(int new_nice);
  // Requests a slice (clamped to kMinSliceNs..kMaxSliceNs); 0 goes back to the base slice.
  // It takes effect at the next deadline (renewal or placement). Not for an entity waiting in
  // a queue's tree (the tree's min_slice_ns would go stale): dequeued or current only.
  void SetSliceNs(uint64_t new_slice_ns);
};

static_assert(offsetof(SchedEntity, min_slice_ns) + sizeof(uint64_t) <= 64,
              "the fields a tree walk reads must fit one cache line");

// ---- The run queue ----------------------------------------------------------------------------

class RunQueue {
 public:
  // `ncpus` scales the default slice (BaseSliceNs); `initial_vruntime` is where the virtual
  // clock starts (tests move it around the u64 wrap).
  explicit RunQueue(uint32_t ncpus = 1, uint64_t initial_vruntime = kInitialVruntime);
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // Adds `se` (not queued anywhere) to the queue: charges the current entity up to now_ns, then
  // places `se` per Linux's place_entity (v = V - vlag * (W + w) / W, d = v + vslice, see
  // EnqueueFlags), adds it to the tree, the average and the back of the waiting list.
  void Enqueue(SchedEntity& se, EnqueueFlags flags, uint64_t now_ns);

  // Removes queued `se` (current or not): charges the current entity, saves se.vlag = V - v
  // clamped to +-CalcDeltaFair(max(2 * slice, kTickNs)), and for kDequeueMigrate makes the
  // deadline relative. Dequeuing the current entity leaves Current() null.
  void Dequeue(SchedEntity& se, DequeueFlags flags, uint64_t now_ns);

  // Charges the current entity, then returns the eligible entity with the earliest virtual
  // deadline among the tree and the current entity, keeping a current entity that is still
  // eligible and protected (RUN_TO_PARITY). nullptr only when nothing is queued. O(log n).
  // Does not change Current(): follow with SetCurrent(result).
  [[nodiscard("the pick is the entity to run next")]] SchedEntity* PickNext(uint64_t now_ns);

  // Makes `se` (queued, or the current entity, or nullptr for idle) current. The previous
  // current entity goes back into the tree and to the back of the waiting list; `se` leaves
  // both but stays in the average, starts its run clock at now_ns and is protected until its
  // deadline. SetCurrent(Current()) only charges runtime (no new protection, as in Linux).
  void SetCurrent(SchedEntity* se, uint64_t now_ns);

  // Charges now_ns - exec_start_ns to the current entity (real and virtual runtime), renews
  // its deadline if vruntime reached it, and advances the base vruntime. True when the deadline
  // was renewed: the caller should reschedule.
  bool UpdateCurrent(uint64_t now_ns);

  // Wakeup preemption, after `woken` was enqueued: charges the current entity, then says
  // whether the pick would now be `woken`. PREEMPT_SHORT: a woken entity with a shorter slice
  // that is eligible and ahead of the current one (or the current one is ineligible) cancels the
  // current entity's protection. True when nothing is current (the CPU is idle).
  [[nodiscard("the caller must reschedule when this is true")]] bool ShouldPreempt(
      const SchedEntity& woken, uint64_t now_ns);

  // Real nanoseconds until the next moment the pick could change while the current entity
  // runs alone: its deadline; or, after its protection ends, the moment a waiting entity with
  // an earlier deadline becomes eligible (V reaches its vruntime). Arm the slice timer with it:
  // EEVDF without a periodic tick. Rounded up, at least 1; kNoDeadline when nothing is current.
  uint64_t NsUntilDecision(uint64_t now_ns) const;

  // Real nanoseconds the current entity may still run before its vruntime reaches its deadline
  // (rounded up, at least 1), counting the runtime not yet charged at now_ns: arm the slice
  // timer with it. kNoDeadline when nothing is current.
  uint64_t NsUntilDeadline(uint64_t now_ns) const;

  // sched_yield() of the current entity: charges it, then gives up the rest of its request:
  // its deadline moves one request later (Linux's yield_task_fair) and its RUN_TO_PARITY
  // protection ends, so the next PickNext prefers any eligible entity with an earlier deadline.
  // No-op when nothing is current or the current entity is alone.
  void YieldCurrent(uint64_t now_ns);

  // Sets the CPU count that scales the default slice (BaseSliceNs(ncpus)), for a queue built
  // before the count was known. Entities without a custom slice take the new value at their
  // next placement or deadline renewal.
  void SetCpuCount(uint32_t ncpus) { base_slice_ns_ = sched::BaseSliceNs(ncpus); }

  // Changes the requested slice of `se` (SchedEntity::SetSliceNs), keeping the tree's
  // min_slice_ns augmentation right when `se` waits in it. Takes effect at its next deadline.
  void SetSlice(SchedEntity& se, uint64_t slice_ns);

  // Changes the nice level of `se`. Queued or current: its lag V - v is first clamped as on
  // dequeue (at the old weight, as Linux does), then v' = V - (V - v) * w / w' and
  // d' = V + (d - V) * w / w' (so the same real time separates them from V; V moves only by
  // the clamp and rounding). Otherwise the saved vlag, already clamped, is scaled
  // (SchedEntity::SetNice).
  void Reweight(SchedEntity& se, int nice, uint64_t now_ns);

  // ---- Observers ----

  // Queued entities, the current one included.
  uint32_t NrQueued() const { return nr_queued_; }
  // Sum of the queued entities' weights, the current one included.
  uint64_t Load() const { return avg_load_; }
  // The entity that runs on this CPU, or nullptr (idle).
  SchedEntity* Current() const { return curr_; }
  // The weighted average vruntime V (floor), current entity included; the base vruntime when
  // the queue is empty.
  uint64_t AvgVruntime() const;
  // True when `se` has non-negative lag, V >= v, tested exactly as A >= (v - v0) * W in 128 bits.
  bool Eligible(const SchedEntity& se) const { return VruntimeEligible(se.vruntime); }
  // Weighted lag w * (V - v) in virtual ns (V as AvgVruntime); for tests and invariant checks.
  int64_t Lag(const SchedEntity& se) const;
  // The default slice for entities without custom_slice.
  uint64_t BaseSliceNs() const { return base_slice_ns_; }
  // The base vruntime v0 (Linux's min_vruntime: monotonic); the average is kept relative to it.
  uint64_t BaseVruntime() const { return v0_; }

  // ---- Waiting list (work stealing) ----

  // The queued, non-current entity that has waited longest (in order of starting to wait).
  SchedEntity* OldestWaiting() const;
  // The entity that started waiting after `se` (queued, not current), or nullptr. O(1).
  SchedEntity* NextWaiting(const SchedEntity& se) const;

  // ---- Debug ----

  // O(n): recomputes the average's sums, the count and the tree augmentation from scratch and
  // asserts they match; checks the tree order, the waiting list and the documented bounds:
  // every queued vruntime and deadline within kMaxVirtualSpread of V, and -W < sum of lags <= 0.
  void CheckInvariants() const;

 private:
  // Tree order and augmentation: (deadline, id) ascending; min_vruntime of the subtree.
  struct TreeTraits {
    static bool Less(const SchedEntity& a, const SchedEntity& b) {
      const int64_t d = VDiff(a.deadline, b.deadline);
      return d < 0 || (d == 0 && a.id < b.id);
    }
    // Returns whether the node's values changed, so that the tree stops propagating at the
    // first unchanged ancestor.
    static bool Augment(SchedEntity& node, const SchedEntity* left, const SchedEntity* right) {
      uint64_t m = node.vruntime;
      uint64_t s = node.slice_ns;
      if (left != nullptr) {
        m = VMin(m, left->min_vruntime);
        s = left->min_slice_ns < s ? left->min_slice_ns : s;
      }
      if (right != nullptr) {
        m = VMin(m, right->min_vruntime);
        s = right->min_slice_ns < s ? right->min_slice_ns : s;
      }
      const bool changed = m != node.min_vruntime || s != node.min_slice_ns;
      node.min_vruntime = m;
      node.min_slice_ns = s;
      return changed;
    }
  };
  using Tree = RbTree<SchedEntity, &SchedEntity::tree_node, TreeTraits>;
  using WaitList = IntrusiveList<SchedEntity, &SchedEntity::wait_node>;

  // Eligibility of a vruntime against the current average: A >= (v - v0) * W.
  bool VruntimeEligible(uint64_t vruntime) const;
  // The EEVDF pick; `protect` honours the current entity's RUN_TO_PARITY protection.
  SchedEntity* Pick(bool protect) const;
  // Whether the current entity `se` is still protected (vruntime before vprot).
  static bool Protected(const SchedEntity& se) { return VDiff(se.vprot, se.vruntime) > 0; }
  // Adds / removes `se` (with its present vruntime and weight) to / from A and W.
  void AvgAdd(const SchedEntity& se);
  void AvgSub(const SchedEntity& se);
  // Moves the base v0 up to the smallest queued vruntime if that is later (never back).
  void UpdateBase();
  // Sets vruntime and deadline of `se`, which is about to join the queue (place_entity).
  void Place(SchedEntity& se, bool initial);

  // Entities queued and not current, by (deadline, id).
  Tree tree_;
  // The same entities, in the order they started waiting.
  WaitList waiting_;
  // The running entity (queued, not in the tree), or nullptr.
  SchedEntity* curr_ = nullptr;
  // A = sum over queued entities (current included) of w_i * (v_i - v0). 128 bits: see
  // docs/eevdf.md, "Overflow", for why int64 is not enough in the worst case.
  __int128 avg_sum_ = 0;
  // W = sum of the queued entities' weights (current included).
  uint64_t avg_load_ = 0;
  // v0, the base of A (Linux's min_vruntime).
  uint64_t v0_;
  // Number of queued entities, current included.
  uint32_t nr_queued_ = 0;
  // Default slice of entities without custom_slice.
  uint64_t base_slice_ns_;
};

}  // namespace lichen::sched
