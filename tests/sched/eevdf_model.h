// A brute-force reference model of one EEVDF run queue, for the property test.
//
// Written separately from kernel/sched/eevdf.cc and as plainly as possible: the entities sit
// in a std::vector, V is recomputed from scratch on every use as floor(sum w*v / sum w) with
// 128-bit host arithmetic (relative to an arbitrary queued vruntime, so it does not depend on
// the kernel's base v0 at all), eligibility is "V >= v" by definition, the pick is a linear
// scan, and every formula uses host __int128 division instead of the kernel's 64-bit tricks.
// Only the things the kernel exposes are modelled; the kernel must agree after every step.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace lichen::sched::model {

using Int128 = __int128;

inline int64_t Diff(uint64_t a, uint64_t b) {
  return static_cast<int64_t>(a - b);
}

// floor(x / d) with host 128-bit division.
inline Int128 FloorDiv(Int128 x, Int128 d) {
  Int128 q = x / d;
  if (x % d != 0 && (x < 0) != (d < 0)) --q;
  return q;
}

// floor(delta * 1024 / w).
inline uint64_t VirtualNs(uint64_t delta_ns, uint32_t weight) {
  return static_cast<uint64_t>((static_cast<Int128>(delta_ns) * 1024) / weight);
}

// trunc(x * mul / div), C-style truncation toward zero.
inline int64_t ScaleTrunc(int64_t x, uint64_t mul, uint64_t div) {
  return static_cast<int64_t>((static_cast<Int128>(x) * static_cast<Int128>(mul)) /
                              static_cast<Int128>(div));
}

// The model's copy of an entity's scheduling state (mirrors SchedEntity's observable fields).
struct Entity {
  uint64_t id = 0;
  int nice = 0;
  uint32_t weight = 1024;
  uint64_t slice_ns = 700'000;
  bool custom_slice = false;
  uint64_t vruntime = 0;
  uint64_t deadline = 0;
  int64_t vlag = 0;
  uint64_t vprot = 0;
  bool on_rq = false;
  bool rel_deadline = false;
  bool new_task = true;
  uint64_t exec_start_ns = 0;
  uint64_t sum_exec_ns = 0;
  uint64_t wait_start_ns = 0;
  int queue = -1;  // Which model queue holds it (-1: none).
};

// Linux's nice -> weight table, typed in again for the model.
inline uint32_t WeightOf(int nice) {
  static constexpr uint32_t kTable[40] = {
      88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904,
      3906,  3121,  2501,  1991,  1586,  1277,  1024,  820,   655,   526,   423,  335,  272,  215,
      172,   137,   110,   87,    70,    56,    45,    36,    29,    23,    18,   15};
  nice = std::clamp(nice, -20, 19);
  return kTable[nice + 20];
}

// One queue. Entities live in a shared pool (several queues model migration between CPUs).
class Queue {
 public:
  Queue(std::vector<Entity>* pool, int index, uint64_t base_slice_ns, uint64_t v0)
      : pool_(pool), index_(index), base_slice_ns_(base_slice_ns), v0_(v0) {}

  // Members of the queue (current included), in the order they started waiting, current last.
  const std::vector<int>& waiting() const { return waiting_; }
  int current() const { return curr_; }
  uint64_t v0() const { return v0_; }

  std::vector<int> Queued() const {
    std::vector<int> q = waiting_;
    if (curr_ >= 0) q.push_back(curr_);
    return q;
  }
  uint32_t NrQueued() const { return static_cast<uint32_t>(Queued().size()); }
  uint64_t Load() const {
    uint64_t w = 0;
    for (int i : Queued())
      w += E(i).weight;
    return w;
  }

  // V = floor(sum w v / sum w), or v0 when empty.
  uint64_t Avg() const {
    std::vector<int> q = Queued();
    if (q.empty()) return v0_;
    const uint64_t base = E(q[0]).vruntime;
    Int128 num = 0;
    Int128 den = 0;
    for (int i : q) {
      num += static_cast<Int128>(Diff(E(i).vruntime, base)) * E(i).weight;
      den += E(i).weight;
    }
    return base + static_cast<uint64_t>(static_cast<int64_t>(FloorDiv(num, den)));
  }
  bool Eligible(int i) const { return Diff(E(i).vruntime, Avg()) <= 0; }
  static bool Before(const Entity& a, const Entity& b) {
    const int64_t d = Diff(a.deadline, b.deadline);
    return d < 0 || (d == 0 && a.id < b.id);
  }

  // Charges the current entity; true when its deadline was renewed.
  bool UpdateCurrent(uint64_t now) {
    if (curr_ < 0) return false;
    Entity& c = E(curr_);
    const int64_t delta = static_cast<int64_t>(now - c.exec_start_ns);
    if (delta <= 0) return false;
    c.exec_start_ns = now;
    c.sum_exec_ns += static_cast<uint64_t>(delta);
    c.vruntime += VirtualNs(static_cast<uint64_t>(delta), c.weight);
    bool renewed = false;
    if (Diff(c.vruntime, c.deadline) >= 0) {
      if (!c.custom_slice) c.slice_ns = base_slice_ns_;
      c.deadline = c.vruntime + VirtualNs(c.slice_ns, c.weight);
      renewed = true;
    }
    MoveBase();
    return renewed;
  }

  void Enqueue(int i, bool is_new, uint64_t now) {
    UpdateCurrent(now);
    Entity& e = E(i);
    if (!e.custom_slice) e.slice_ns = base_slice_ns_;
    const bool initial = is_new || e.new_task;
    if (is_new) e.vlag = 0;
    const uint64_t avg = Avg();
    int64_t lag = 0;
    const uint64_t load = Load();
    if (NrQueued() > 0 && e.vlag != 0) {
      lag = static_cast<int64_t>((static_cast<Int128>(e.vlag) * (load + e.weight)) /
                                 static_cast<Int128>(load));
    }
    e.vruntime = avg - static_cast<uint64_t>(lag);
    if (e.rel_deadline) {
      e.deadline += e.vruntime;
      e.rel_deadline = false;
    } else {
      uint64_t vslice = VirtualNs(e.slice_ns, e.weight);
      if (initial) vslice /= 2;
      e.deadline = e.vruntime + vslice;
    }
    e.new_task = false;
    e.on_rq = true;
    e.queue = index_;
    e.wait_start_ns = now;
    waiting_.push_back(i);
    // A shorter request shortens the current entity's remaining protection.
    if (curr_ >= 0 && e.slice_ns < E(curr_).slice_ns) {
      Entity& c = E(curr_);
      const uint64_t by_slice = c.vruntime + VirtualNs(e.slice_ns, c.weight);
      if (Diff(by_slice, c.vprot) < 0) c.vprot = by_slice;
    }
  }

  void Dequeue(int i, bool migrate, uint64_t now) {
    UpdateCurrent(now);
    Entity& e = E(i);
    e.vlag = ClampedLag(e);
    if (migrate) {
      e.deadline -= e.vruntime;
      e.rel_deadline = true;
    }
    if (curr_ == i) {
      curr_ = -1;
    } else {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), i));
    }
    e.on_rq = false;
    e.queue = -1;
    MoveBase();
  }

  // The EEVDF pick by linear scan.
  int Pick(bool protect) const {
    int curr = curr_;
    if (curr >= 0 && !Eligible(curr)) curr = -1;
    if (curr >= 0 && protect && Diff(E(curr).vprot, E(curr).vruntime) > 0) return curr;
    int best = -1;
    for (int i : waiting_) {
      if (Eligible(i) && (best < 0 || Before(E(i), E(best)))) best = i;
    }
    if (curr >= 0 && (best < 0 || Before(E(curr), E(best)))) best = curr;
    return best;
  }
  int PickNext(uint64_t now) {
    UpdateCurrent(now);
    return Pick(true);
  }

  void SetCurrent(int i, uint64_t now) {
    if (curr_ >= 0) {
      UpdateCurrent(now);
      if (i == curr_) return;
      E(curr_).wait_start_ns = now;
      waiting_.push_back(curr_);
      curr_ = -1;
    }
    if (i < 0) return;
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), i));
    E(i).exec_start_ns = now;
    // Protected until its deadline, or one slice of the shortest queued request.
    uint64_t min_slice = E(i).slice_ns;
    for (int j : waiting_)
      min_slice = std::min(min_slice, E(j).slice_ns);
    const uint64_t by_slice = E(i).vruntime + VirtualNs(min_slice, E(i).weight);
    E(i).vprot = Diff(by_slice, E(i).deadline) < 0 ? by_slice : E(i).deadline;
    curr_ = i;
  }

  bool ShouldPreempt(int woken, uint64_t now) {
    if (curr_ < 0) return true;
    if (woken == curr_) return false;
    UpdateCurrent(now);
    Entity& c = E(curr_);
    const Entity& w = E(woken);
    const bool is_short =
        w.slice_ns < c.slice_ns && Eligible(woken) && (Before(w, c) || !Eligible(curr_));
    if (is_short && Diff(c.vprot, c.vruntime) > 0) c.vprot = c.vruntime;
    return Pick(true) == woken;
  }

  uint64_t NsUntilDeadline(uint64_t now) const {
    if (curr_ < 0) return ~uint64_t{0};
    const Entity& c = E(curr_);
    const int64_t dv = Diff(c.deadline, c.vruntime);
    if (dv <= 0) return 1;
    const Int128 need = (static_cast<Int128>(dv) * c.weight + 1023) / 1024;
    const Int128 pending = std::max<int64_t>(0, static_cast<int64_t>(now - c.exec_start_ns));
    return need <= pending ? 1 : static_cast<uint64_t>(need - pending);
  }

  void Yield(uint64_t now) {
    UpdateCurrent(now);
    if (curr_ < 0 || NrQueued() == 1) return;
    Entity& c = E(curr_);
    c.deadline += VirtualNs(c.slice_ns, c.weight);
    c.vprot = c.vruntime;
  }

  void Reweight(int i, int nice, uint64_t now) {
    nice = std::clamp(nice, -20, 19);
    Entity& e = E(i);
    const uint32_t w2 = WeightOf(nice);
    if (!e.on_rq) {
      e.vlag = ScaleTrunc(e.vlag, e.weight, w2);
      if (e.rel_deadline) {
        e.deadline =
            static_cast<uint64_t>(ScaleTrunc(static_cast<int64_t>(e.deadline), e.weight, w2));
      }
      e.nice = nice;
      e.weight = w2;
      return;
    }
    UpdateCurrent(now);
    const uint64_t avg = Avg();
    // The lag is clamped as on dequeue, at the old weight, before it is rescaled.
    e.vruntime = avg - static_cast<uint64_t>(ScaleTrunc(ClampedLag(e), e.weight, w2));
    e.deadline = avg + static_cast<uint64_t>(ScaleTrunc(Diff(e.deadline, avg), e.weight, w2));
    if (i == curr_) {
      e.vprot = avg + static_cast<uint64_t>(ScaleTrunc(Diff(e.vprot, avg), e.weight, w2));
    }
    e.nice = nice;
    e.weight = w2;
  }

 private:
  Entity& E(int i) const { return (*pool_)[static_cast<size_t>(i)]; }

  // V - v, clamped to +-(max(2 slices, a 1 ms tick) of real time at the entity's weight).
  int64_t ClampedLag(const Entity& e) const {
    const int64_t limit =
        static_cast<int64_t>(VirtualNs(std::max<uint64_t>(2 * e.slice_ns, 1'000'000), e.weight));
    return std::clamp<int64_t>(Diff(Avg(), e.vruntime), -limit, limit);
  }

  // v0 = max(v0, smallest queued vruntime); unchanged when empty.
  void MoveBase() {
    std::vector<int> q = Queued();
    if (q.empty()) return;
    uint64_t lowest = E(q[0]).vruntime;
    for (int i : q) {
      if (Diff(E(i).vruntime, lowest) < 0) lowest = E(i).vruntime;
    }
    if (Diff(lowest, v0_) > 0) v0_ = lowest;
  }

  std::vector<Entity>* pool_;
  int index_;
  uint64_t base_slice_ns_;
  uint64_t v0_;
  std::vector<int> waiting_;  // Queued, not current, in the order they started waiting.
  int curr_ = -1;
};

}  // namespace lichen::sched::model
