// Fairness and latency of the EEVDF run queue, driven by a tiny discrete-event loop.
//
// The loop plays the per-CPU scheduler: it runs the current entity until the earliest of its
// slice expiry (NsUntilDeadline), the end of its CPU burst (periodic tasks then sleep) and the
// next wakeup; charges it (UpdateCurrent); enqueues woken tasks and asks ShouldPreempt; and
// switches (PickNext + SetCurrent) when the slice expired, the current task slept or a wakeup
// preempts. Time is simulated; nothing else touches the queue.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "kernel/sched/eevdf.h"

namespace lichen::sched {
namespace {

constexpr uint64_t kForever = ~uint64_t{0};

struct SimTask {
  SchedEntity se;
  // CPU-bound when burst_ns is 0; otherwise runs burst_ns, then sleeps sleep_ns, repeatedly.
  uint64_t burst_ns = 0;
  uint64_t sleep_ns = 0;
  uint64_t burst_left_ns = 0;
  uint64_t wake_at_ns = kForever;  // kForever while runnable.
  // Wake-to-run latencies and related bookkeeping (for the latency test).
  uint64_t woke_at_ns = kForever;
  std::vector<uint64_t> waits_ns;
  uint64_t immediate_preemptions = 0;
  // Largest |real-time lag| seen while queued, in ns.
  int64_t max_abs_lag_ns = 0;
};

class Sim {
 public:
  explicit Sim(uint32_t ncpus = 1) : rq_(ncpus) {}
  ~Sim() {
    rq_.SetCurrent(nullptr, now_);
    for (auto& t : tasks_) {
      if (t->se.on_rq) rq_.Dequeue(t->se, kDequeueSleep, now_);
    }
  }

  SimTask& Add(int nice, uint64_t slice_ns = 0, uint64_t burst_ns = 0, uint64_t sleep_ns = 0) {
    tasks_.push_back(std::make_unique<SimTask>());
    SimTask& t = *tasks_.back();
    t.se.id = tasks_.size();
    t.se.SetNice(nice);
    if (slice_ns != 0) t.se.SetSliceNs(slice_ns);
    t.burst_ns = t.burst_left_ns = burst_ns;
    t.sleep_ns = sleep_ns;
    rq_.Enqueue(t.se, kEnqueueNew, now_);
    return t;
  }

  // Called after each wakeup's Enqueue with the task and its saved vlag (before placement).
  template <typename OnWake>
  void Run(uint64_t duration_ns, OnWake on_wake) {
    const uint64_t end = now_ + duration_ns;
    Switch();
    while (now_ < end) {
      SimTask* curr = Running();
      uint64_t t = end;
      if (curr != nullptr) {
        t = std::min(t, now_ + rq_.NsUntilDeadline(now_));
        if (curr->burst_ns != 0) t = std::min(t, now_ + curr->burst_left_ns);
      }
      for (auto& task : tasks_)
        t = std::min(t, task->wake_at_ns);
      if (curr != nullptr && curr->burst_ns != 0) curr->burst_left_ns -= t - now_;
      now_ = t;

      bool resched = rq_.UpdateCurrent(now_);
      if (curr != nullptr && curr->burst_ns != 0 && curr->burst_left_ns == 0) {
        rq_.Dequeue(curr->se, kDequeueSleep, now_);
        curr->wake_at_ns = now_ + curr->sleep_ns;
        curr->burst_left_ns = curr->burst_ns;
        resched = true;
      }
      for (auto& task : tasks_) {
        if (task->wake_at_ns != now_) continue;
        task->wake_at_ns = kForever;
        const int64_t vlag = task->se.vlag;
        rq_.Enqueue(task->se, kEnqueueWakeup, now_);
        task->woke_at_ns = now_;
        on_wake(*task, vlag);
        if (rq_.ShouldPreempt(task->se, now_)) {
          resched = true;
          if (rq_.Current() != nullptr) ++task->immediate_preemptions;
        }
      }
      if (resched || rq_.Current() == nullptr) Switch();
      Observe();
    }
  }
  void Run(uint64_t duration_ns) {
    Run(duration_ns, [](SimTask&, int64_t) {});
  }

  RunQueue& rq() { return rq_; }
  uint64_t now() const { return now_; }
  std::vector<std::unique_ptr<SimTask>>& tasks() { return tasks_; }

 private:
  SimTask* Running() {
    SchedEntity* se = rq_.Current();
    if (se == nullptr) return nullptr;
    return tasks_[se->id - 1].get();
  }

  void Switch() {
    SchedEntity* next = rq_.PickNext(now_);
    rq_.SetCurrent(next, now_);
    if (next != nullptr) {
      SimTask& t = *tasks_[next->id - 1];
      if (t.woke_at_ns != kForever) {
        t.waits_ns.push_back(now_ - t.woke_at_ns);
        t.woke_at_ns = kForever;
      }
    }
  }

  void Observe() {
    rq_.CheckInvariants();
    for (auto& t : tasks_) {
      if (!t->se.on_rq) continue;
      const int64_t lag_ns = rq_.Lag(t->se) / static_cast<int64_t>(kNice0Weight);
      t->max_abs_lag_ns = std::max(t->max_abs_lag_ns, lag_ns < 0 ? -lag_ns : lag_ns);
    }
  }

  RunQueue rq_;
  uint64_t now_ = 0;
  std::vector<std::unique_ptr<SimTask>> tasks_;
};

// CPU-bound tasks at mixed nice levels get their weight's share of the CPU, each within one
// slice, and their lag stays within the EEVDF bound -r_max < lag < max(r_max, q) at all times:
// here every request is one base slice (r_max = q = 0.7 ms), so |lag| <= 0.7 ms, plus the
// rounding of the virtual clock (under 1 virtual ns per charge, a few ns in total).
TEST(EevdfFairness, CpuBoundTasksGetTheirWeightShare) {
  for (const uint32_t ncpus : {1u, 8u}) {
    Sim sim(ncpus);
    const int nices[] = {-5, 0, 0, 3, 10};
    uint64_t total_weight = 0;
    for (int nice : nices) {
      sim.Add(nice);
      total_weight += WeightForNice(nice);
    }
    const uint64_t duration_ns = 5'000'000'000;
    sim.Run(duration_ns);
    const int64_t slice_ns = static_cast<int64_t>(BaseSliceNs(ncpus));
    const int64_t rounding_ns = 1'000;
    for (auto& t : sim.tasks()) {
      const int64_t share_ns =
          static_cast<int64_t>(static_cast<__int128>(duration_ns) * t->se.weight / total_weight);
      const int64_t got_ns = static_cast<int64_t>(t->se.sum_exec_ns);
      EXPECT_LE(std::abs(got_ns - share_ns), slice_ns + rounding_ns)
          << "nice " << t->se.nice << " got " << got_ns << " share " << share_ns;
      EXPECT_LE(t->max_abs_lag_ns, slice_ns + rounding_ns) << "nice " << t->se.nice;
    }
  }
}

// Mixed requested slices: the bound becomes the largest request, -r_max < lag < r_max.
TEST(EevdfFairness, MixedSlicesStayWithinTheLargestRequest) {
  Sim sim(1);
  const uint64_t slices[] = {300'000, 700'000, 3'000'000, 10'000'000};
  uint64_t total_weight = 0;
  for (int k = 0; k < 4; ++k) {
    sim.Add(k * 4 - 6, slices[k]);
    total_weight += WeightForNice(k * 4 - 6);
  }
  const uint64_t duration_ns = 3'000'000'000;
  sim.Run(duration_ns);
  for (auto& t : sim.tasks()) {
    const int64_t share_ns =
        static_cast<int64_t>(static_cast<__int128>(duration_ns) * t->se.weight / total_weight);
    EXPECT_LE(std::abs(static_cast<int64_t>(t->se.sum_exec_ns) - share_ns), 10'001'000);
    EXPECT_LE(t->max_abs_lag_ns, 10'001'000);
  }
}

// Tasks that sleep keep their lag across the sleep: after the wakeup placement the distance
// V - v equals the saved vlag (to within the rounding of the inflation), so a task that went to
// sleep owed time (positive lag) comes back eligible, ahead of V; CPU-bound tasks beside them
// still stay within a bounded lag.
TEST(EevdfFairness, SleepersKeepTheirLag) {
  Sim sim(1);
  sim.Add(0);
  sim.Add(-3);
  sim.Add(5);
  sim.Add(0, 0, 300'000, 2'000'000);     // Short bursts, short sleeps.
  sim.Add(-2, 0, 3'000'000, 7'000'000);  // Long bursts, longer sleeps.
  sim.Add(8, 2'000'000, 150'000, 900'000);
  uint64_t wakes = 0;
  uint64_t positive = 0;
  sim.Run(3'000'000'000, [&](SimTask& t, int64_t vlag) {
    ++wakes;
    const int64_t placed = VDiff(sim.rq().AvgVruntime(), t.se.vruntime);
    // Placement inflates by (W + w) / W with a truncating division, then V is floored: the
    // restored lag is off by at most a couple of virtual ns.
    EXPECT_LE(std::abs(placed - vlag), 2) << "vlag " << vlag << " placed " << placed;
    if (vlag > 0) {
      ++positive;
      EXPECT_TRUE(sim.rq().Eligible(t.se));
      EXPECT_LT(VDiff(t.se.vruntime, sim.rq().AvgVruntime()), 0);
    }
  });
  EXPECT_GT(wakes, 1000u);
  EXPECT_GT(positive, 10u);
  // CPU-bound tasks: the largest request plus the largest lag a sleeper can bring back
  // (the dequeue clamp, 2 slices) bound how far they can fall behind or run ahead.
  for (int k = 0; k < 3; ++k) {
    EXPECT_LE(sim.tasks()[k]->max_abs_lag_ns, 2'000'000 + 2 * 2'000'000) << k;
  }
}

// A short-slice task (0.5 ms) that runs 0.2 ms and sleeps 3 ms, among four CPU-bound tasks
// with 10 ms slices. Bounds checked on every wakeup, with V and W read right after the enqueue:
//  (a) PREEMPT_SHORT: when the short task wakes eligible and with an earlier deadline than the
//      current task (or the current task is no longer eligible), ShouldPreempt is true and its
//      wait is exactly 0, although the current task is protected by RUN_TO_PARITY;
//  (b) always: it starts before V reaches its virtual deadline plus one protected long slice:
//      wait <= (deadline - V) * W / 1024 + 10 ms. V advances by exactly 1024 / W per ns of CPU
//      time while W is constant, so the first term is the real time until V reaches the
//      deadline; the second is the longest run that no wakeup or deadline interrupts (EEVDF's
//      "request fulfilled by its deadline + q", with q = one long request).
// The same task asking for a 10 ms slice never preempts a protected, eligible current task (in
// this load the current task is rarely both: it has usually run past V by the time s wakes).
TEST(EevdfLatency, ShortSliceWakerPreemptsLongSliceCurrent) {
  for (const bool short_slice : {true, false}) {
    SCOPED_TRACE(short_slice ? "0.5 ms slice" : "10 ms slice");
    Sim sim(1);
    for (int k = 0; k < 4; ++k)
      sim.Add(0, 10'000'000);
    SimTask& s = sim.Add(0, short_slice ? 500'000 : 10'000'000, 200'000, 3'000'000);
    uint64_t short_preempts = 0;
    uint64_t protected_wakes = 0;
    std::vector<uint64_t> bounds;  // Per wakeup of s.
    sim.Run(2'000'000'000, [&](SimTask& t, int64_t) {
      if (&t != &s) return;
      RunQueue& rq = sim.rq();
      const SchedEntity* curr = rq.Current();
      ASSERT_NE(curr, nullptr);  // The CPU-bound tasks keep it busy.
      const bool curr_protected = VDiff(curr->vprot, curr->vruntime) > 0;
      const bool curr_eligible = rq.Eligible(*curr);
      const bool ahead_of_curr = VDiff(t.se.deadline, curr->deadline) < 0 ||
                                 (t.se.deadline == curr->deadline && t.se.id < curr->id);
      if (short_slice && rq.Eligible(t.se) && (ahead_of_curr || !curr_eligible)) {
        ++short_preempts;
        if (curr_protected) ++protected_wakes;
        bounds.push_back(0);
        return;
      }
      if (!short_slice && curr_protected && curr_eligible) {
        ++protected_wakes;
        EXPECT_FALSE(rq.ShouldPreempt(t.se, sim.now()));
      }
      const int64_t to_deadline = VDiff(t.se.deadline, rq.AvgVruntime());
      ASSERT_GT(to_deadline, 0);
      bounds.push_back(
          static_cast<uint64_t>(static_cast<__int128>(to_deadline) * rq.Load() / kNice0Weight) +
          10'000'000);
    });
    ASSERT_LE(bounds.size(), s.waits_ns.size() + 1);
    uint64_t worst = 0;
    for (size_t k = 0; k < s.waits_ns.size(); ++k) {
      EXPECT_LE(s.waits_ns[k], bounds[k]) << "wake " << k;
      worst = std::max(worst, s.waits_ns[k]);
    }
    std::printf(
        "%s: %zu wakeups, %llu immediate preemptions (%llu of a protected current), "
        "worst wait %llu ns\n",
        short_slice ? "short slice" : "long slice", s.waits_ns.size(),
        static_cast<unsigned long long>(s.immediate_preemptions),
        static_cast<unsigned long long>(protected_wakes), static_cast<unsigned long long>(worst));
    EXPECT_GT(s.waits_ns.size(), 100u);
    if (short_slice) {
      // PREEMPT_SHORT broke through RUN_TO_PARITY protection many times.
      EXPECT_GT(protected_wakes, 0u);
      EXPECT_GT(short_preempts, 0u);
      EXPECT_EQ(s.immediate_preemptions, short_preempts);
    }
  }
}

}  // namespace
}  // namespace lichen::sched
