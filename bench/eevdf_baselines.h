// Two baseline EEVDF run queues to measure lichen::sched::RunQueue against, with the same
// arithmetic (A and W in 128/64 bits, V floored, eligibility as A >= (v - v0) * W, PLACE_LAG
// with inflation, the dequeue lag clamp, deadline renewal, RUN_TO_PARITY) and the same picks,
// but other data structures:
//   ScanQueue     the O(n) design the seed kernel started from: an array, and a linear scan
//                 for the eligible entity with the earliest deadline at every pick;
//   TwoHeapQueue  eligible entities in a min-heap by deadline, ineligible ones in a min-heap by
//                 vruntime; a pick first moves entries across as V has moved (both ways: V can
//                 go down when an entity with positive lag joins), then takes the top.
// Both keep v0 fixed (their keys fit easily in 128 bits), which saves them the base-vruntime
// bookkeeping the real queue does: if anything, that favours the baselines.
#pragma once

#include <cstdint>
#include <vector>

#include "kernel/sched/eevdf.h"

namespace lichen::bench {

using sched::CalcDeltaFair;
using sched::MulDivTrunc;
using sched::VDiff;

// A baseline's schedulable entity: SchedEntity's scheduling fields plus a container index.
struct BaseEntity {
  uint64_t id = 0;
  uint32_t weight = sched::kNice0Weight;
  uint64_t slice_ns = sched::BaseSliceNs(1);
  uint64_t vruntime = 0;
  uint64_t deadline = 0;
  int64_t vlag = 0;
  uint64_t vprot = 0;
  uint64_t exec_start_ns = 0;
  bool on_rq = false;
  bool new_task = true;
  uint8_t heap = 0;    // TwoHeapQueue: 0 none (or current), 1 eligible, 2 ineligible.
  uint32_t index = 0;  // Position in the array or in its heap.

  void SetNice(int nice) { weight = sched::WeightForNice(nice); }
};

inline bool DeadlineBefore(const BaseEntity* a, const BaseEntity* b) {
  const int64_t d = VDiff(a->deadline, b->deadline);
  return d < 0 || (d == 0 && a->id < b->id);
}
inline bool VruntimeBefore(const BaseEntity* a, const BaseEntity* b) {
  const int64_t d = VDiff(a->vruntime, b->vruntime);
  return d < 0 || (d == 0 && a->id < b->id);
}

// The EEVDF arithmetic both baselines share (the same formulas as kernel/sched/eevdf.cc), and
// the queue operations written on top of it; `Queue` supplies how the waiting entities are
// stored: Insert(e) and Erase(e) (CRTP, so the benchmarks pay no virtual call).
template <typename Queue>
class BaselineMath {
 public:
  void Enqueue(BaseEntity& e, bool is_new, uint64_t now_ns) {
    UpdateCurrent(now_ns);
    Place(e, is_new);
    self().Insert(e);
  }
  void Dequeue(BaseEntity& e, uint64_t now_ns) {
    UpdateCurrent(now_ns);
    SaveLagAndRemove(e);
    if (&e == curr_) {
      curr_ = nullptr;
    } else {
      self().Erase(e);
    }
  }
  void SetCurrent(BaseEntity* e, uint64_t now_ns) {
    if (curr_ != nullptr) {
      UpdateCurrent(now_ns);
      if (e == curr_) return;
      self().Insert(*curr_);
      curr_ = nullptr;
    }
    if (e == nullptr) return;
    self().Erase(*e);
    e->exec_start_ns = now_ns;
    e->vprot = e->deadline;
    curr_ = e;
  }
  uint64_t Avg() const {
    if (load_ == 0) return v0_;
    return v0_ + static_cast<uint64_t>(sched::FloorDiv128(sum_, load_));
  }
  bool EligibleV(uint64_t v) const {
    return sum_ >= static_cast<__int128>(VDiff(v, v0_)) * static_cast<__int128>(load_);
  }
  BaseEntity* Current() const { return curr_; }
  uint32_t NrQueued() const { return nr_; }

  uint64_t NsUntilDeadline(uint64_t now_ns) const {
    if (curr_ == nullptr) return sched::kNoDeadline;
    const int64_t dv = VDiff(curr_->deadline, curr_->vruntime);
    if (dv <= 0) return 1;
    const uint64_t need =
        static_cast<uint64_t>((static_cast<unsigned __int128>(dv) * curr_->weight + 1023) >> 10);
    const uint64_t pending = now_ns - curr_->exec_start_ns;
    return need <= pending ? 1 : need - pending;
  }

  bool UpdateCurrent(uint64_t now_ns) {
    if (curr_ == nullptr) return false;
    const int64_t delta = static_cast<int64_t>(now_ns - curr_->exec_start_ns);
    if (delta <= 0) return false;
    curr_->exec_start_ns = now_ns;
    const uint64_t dv = CalcDeltaFair(static_cast<uint64_t>(delta), curr_->weight);
    curr_->vruntime += dv;
    sum_ += static_cast<__int128>(dv) * curr_->weight;
    if (VDiff(curr_->vruntime, curr_->deadline) >= 0) {
      curr_->deadline = curr_->vruntime + CalcDeltaFair(curr_->slice_ns, curr_->weight);
      return true;
    }
    return false;
  }

 protected:
  void Place(BaseEntity& e, bool is_new) {
    const uint64_t avg = Avg();
    int64_t lag = 0;
    if (is_new) e.vlag = 0;
    if (nr_ > 0 && e.vlag != 0) lag = e.vlag + MulDivTrunc(e.vlag, e.weight, load_);
    e.vruntime = avg - static_cast<uint64_t>(lag);
    uint64_t vslice = CalcDeltaFair(e.slice_ns, e.weight);
    if (is_new || e.new_task) vslice /= 2;
    e.deadline = e.vruntime + vslice;
    e.new_task = false;
    sum_ += static_cast<__int128>(VDiff(e.vruntime, v0_)) * e.weight;
    load_ += e.weight;
    e.on_rq = true;
    ++nr_;
  }
  void SaveLagAndRemove(BaseEntity& e) {
    const uint64_t limit_ns = e.slice_ns * 2 > sched::kTickNs ? e.slice_ns * 2 : sched::kTickNs;
    const int64_t limit = static_cast<int64_t>(CalcDeltaFair(limit_ns, e.weight));
    const int64_t vlag = VDiff(Avg(), e.vruntime);
    e.vlag = vlag < -limit ? -limit : (vlag > limit ? limit : vlag);
    sum_ -= static_cast<__int128>(VDiff(e.vruntime, v0_)) * e.weight;
    load_ -= e.weight;
    e.on_rq = false;
    --nr_;
  }
  // The current entity if it is eligible and protected (RUN_TO_PARITY), else nullptr; sets
  // `eligible_curr` to the current entity when it is eligible at all.
  BaseEntity* ProtectedCurrent(BaseEntity*& eligible_curr) const {
    eligible_curr = curr_ != nullptr && EligibleV(curr_->vruntime) ? curr_ : nullptr;
    if (eligible_curr != nullptr && VDiff(eligible_curr->vprot, eligible_curr->vruntime) > 0) {
      return eligible_curr;
    }
    return nullptr;
  }

  Queue& self() { return static_cast<Queue&>(*this); }

  __int128 sum_ = 0;
  uint64_t load_ = 0;
  uint64_t v0_ = sched::kInitialVruntime;
  BaseEntity* curr_ = nullptr;
  uint32_t nr_ = 0;
};

// O(n): an unordered array; picks scan every waiting entity.
class ScanQueue : public BaselineMath<ScanQueue> {
 public:
  BaseEntity* PickNext(uint64_t now_ns) {
    UpdateCurrent(now_ns);
    BaseEntity* curr;
    if (BaseEntity* kept = ProtectedCurrent(curr)) return kept;
    BaseEntity* best = nullptr;
    for (BaseEntity* e : items_) {
      if (EligibleV(e->vruntime) && (best == nullptr || DeadlineBefore(e, best))) best = e;
    }
    if (curr != nullptr && (best == nullptr || DeadlineBefore(curr, best))) best = curr;
    return best;
  }

 private:
  friend class BaselineMath<ScanQueue>;
  void Insert(BaseEntity& e) {
    e.index = static_cast<uint32_t>(items_.size());
    items_.push_back(&e);
  }
  void Erase(BaseEntity& e) {
    BaseEntity* last = items_.back();
    items_[e.index] = last;
    last->index = e.index;
    items_.pop_back();
  }

  std::vector<BaseEntity*> items_;
};

// An indexed binary min-heap of entities (each entity records its position).
template <bool (*Before)(const BaseEntity*, const BaseEntity*)>
class IndexedHeap {
 public:
  bool Empty() const { return items_.empty(); }
  BaseEntity* Top() const { return items_.empty() ? nullptr : items_[0]; }
  void Push(BaseEntity* e) {
    e->index = static_cast<uint32_t>(items_.size());
    items_.push_back(e);
    Up(e->index);
  }
  void Erase(BaseEntity* e) {
    const uint32_t i = e->index;
    BaseEntity* last = items_.back();
    items_.pop_back();
    if (last == e) return;
    items_[i] = last;
    last->index = i;
    Up(i);
    Down(last->index);
  }

 private:
  void Place(uint32_t i, BaseEntity* e) {
    items_[i] = e;
    e->index = i;
  }
  void Up(uint32_t i) {
    BaseEntity* e = items_[i];
    while (i > 0) {
      const uint32_t parent = (i - 1) / 2;
      if (!Before(e, items_[parent])) break;
      Place(i, items_[parent]);
      i = parent;
    }
    Place(i, e);
  }
  void Down(uint32_t i) {
    BaseEntity* e = items_[i];
    const uint32_t n = static_cast<uint32_t>(items_.size());
    for (;;) {
      uint32_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(items_[child + 1], items_[child])) ++child;
      if (!Before(items_[child], e)) break;
      Place(i, items_[child]);
      i = child;
    }
    Place(i, e);
  }

  std::vector<BaseEntity*> items_;
};

// Two heaps: eligible by deadline, ineligible by vruntime.
class TwoHeapQueue : public BaselineMath<TwoHeapQueue> {
 public:
  BaseEntity* PickNext(uint64_t now_ns) {
    UpdateCurrent(now_ns);
    // V has moved since the last pick: promote what became eligible (smallest vruntime
    // first), then demote what is no longer eligible from the top of the eligible heap (the
    // only entry that matters; others are checked lazily when they surface).
    while (!ineligible_.Empty() && EligibleV(ineligible_.Top()->vruntime)) {
      BaseEntity* e = ineligible_.Top();
      ineligible_.Erase(e);
      e->heap = 1;
      eligible_.Push(e);
    }
    while (!eligible_.Empty() && !EligibleV(eligible_.Top()->vruntime)) {
      BaseEntity* e = eligible_.Top();
      eligible_.Erase(e);
      e->heap = 2;
      ineligible_.Push(e);
    }
    BaseEntity* curr;
    if (BaseEntity* kept = ProtectedCurrent(curr)) return kept;
    BaseEntity* best = eligible_.Top();
    if (curr != nullptr && (best == nullptr || DeadlineBefore(curr, best))) best = curr;
    return best;
  }

 private:
  friend class BaselineMath<TwoHeapQueue>;
  void Insert(BaseEntity& e) {
    if (EligibleV(e.vruntime)) {
      e.heap = 1;
      eligible_.Push(&e);
    } else {
      e.heap = 2;
      ineligible_.Push(&e);
    }
  }
  void Erase(BaseEntity& e) {
    if (e.heap == 1) eligible_.Erase(&e);
    if (e.heap == 2) ineligible_.Erase(&e);
    e.heap = 0;
  }

  IndexedHeap<DeadlineBefore> eligible_;
  IndexedHeap<VruntimeBefore> ineligible_;
};

}  // namespace lichen::bench
