// Placement policies: which CPU a new or woken task goes to. They read only what CPUs
// publish (nr_running, load, and the tasks in flight to them), never another CPU's run queue.
#include "kernel/base/debug.h"
#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "lib/assert.h"
#include "lib/sim_reset.h"

namespace lichen::sched {

namespace {

Atomic<uint32_t> g_round_robin{0};

// What a CPU runs or will run: its published queue plus the tasks posted to its mailbox and
// not yet enqueued. Without the tasks in flight, a burst of spawns from one CPU reads the same
// stale numbers every time and piles onto one target.
uint32_t NrRunning(uint32_t cpu) {
  const CpuShared& shared = Shared(cpu);
  return shared.nr_running.Load(std::memory_order_relaxed) +
         shared.incoming_tasks.Load(std::memory_order_relaxed);
}

uint64_t Load(uint32_t cpu) {
  const CpuShared& shared = Shared(cpu);
  return shared.load.Load(std::memory_order_relaxed) +
         shared.incoming_load.Load(std::memory_order_relaxed);
}

// The allowed CPU where `metric` (a published number) is smallest; ties go to `prefer`, then
// the lowest id.
template <typename Metric>
uint32_t MinBy(CpuMask allowed, uint32_t prefer, Metric metric) {
  uint32_t best = allowed.Test(prefer) ? prefer : allowed.First();
  auto best_value = metric(best);
  for (uint32_t cpu : allowed) {
    const auto value = metric(cpu);
    if (value < best_value) {
      best = cpu;
      best_value = value;
    }
  }
  return best;
}

// The allowed CPU with the fewest runnable tasks.
uint32_t FewestTasks(CpuMask allowed, uint32_t prefer) {
  return MinBy(allowed, prefer, &NrRunning);
}

// The allowed CPU with the least load (sum of weights), so that a heavy task and several
// light ones even out.
uint32_t LeastLoaded(CpuMask allowed, uint32_t prefer) {
  return MinBy(allowed, prefer, &Load);
}

}  // namespace

uint32_t SelectCpu(const Task& task, Transit why, uint32_t this_cpu) {
  const CpuMask allowed = task.Affinity() & OnlineCpus();
  LICHEN_ASSERT(!allowed.Empty(), "task {} may run on no online CPU", task.id);
  // Where the task "is": its previous CPU for a wakeup, the spawning CPU for a new task.
  const uint32_t prev = task.cpu.Load(std::memory_order_relaxed);
  const uint32_t home = why == Transit::kNew ? this_cpu : prev;
  switch (config().placement) {
    case Placement::kRoundRobin: {
      if (why != Transit::kNew) return allowed.Test(prev) ? prev : allowed.First();
      // The next allowed CPU in turn: the k-th of the allowed set.
      // One fetch-add: CPUs spawning at once each take a turn of their own.
      uint32_t turn = 0;
      if (LICHEN_FAULT(round_robin_load_store)) {
        turn = g_round_robin.Load(std::memory_order_relaxed);
        g_round_robin.Store(turn + 1, std::memory_order_relaxed);
      } else {
        turn = g_round_robin.FetchAdd(1, std::memory_order_relaxed);
      }
      uint32_t k = turn % allowed.Count();
      for (uint32_t cpu : allowed) {
        if (k-- == 0) return cpu;
      }
      return allowed.First();
    }
    case Placement::kLocalFirst: {
      const uint32_t least = FewestTasks(allowed, home);
      if (!allowed.Test(home)) return least;
      return NrRunning(home) >= NrRunning(least) + config().local_first_threshold ? least : home;
    }
    case Placement::kLeastLoaded:
      return LeastLoaded(allowed, home);
  }
  return home;
}

}  // namespace lichen::sched

#if defined(LICHEN_HOST)
namespace lichen::sched {
namespace {
void ResetPlacement() {
  g_round_robin.Store(0, std::memory_order_relaxed);
}
const ResetRegistrar g_reset_placement("sched.placement", ResetStage::kAny, &ResetPlacement);
}  // namespace
}  // namespace lichen::sched
#endif
