// Scheduler policy knobs, chosen once at boot (before secondary CPUs start) and read-only
// afterwards.
#pragma once

#include <cstdint>

#include "lib/units.h"

namespace lichen::sched {

// Where a new or woken task goes. All three read only published per-CPU loads.
enum class Placement : uint8_t {
  // Next CPU in turn (the seed kernel's policy; the baseline). Wakeups return to the CPU the
  // task last ran on.
  kRoundRobin,
  // Stay on this CPU (spawn) or the task's previous CPU (wake) unless its queue is longer
  // than the least-loaded allowed CPU's by at least `local_first_threshold`.
  kLocalFirst,
  // The allowed CPU with the least load: the sum of its runnable tasks' weights (ties: prefer
  // the previous CPU, then the lowest id).
  kLeastLoaded,
};

const char* PlacementName(Placement placement);

struct Config {
  // Chosen from bench/sim_policies (docs/perf.md): with stealing and the load balance on,
  // round-robin gave the shortest makespans, the best p99 wake latency and the fairest shares
  // on 4 and 8 CPUs; local-first and least-loaded won nothing that round-robin lost.
  Placement placement = Placement::kRoundRobin;
  // An idle CPU asks the busiest CPU for work.
  bool steal = true;
  // A busy CPU periodically pushes a task to the least loaded CPU when that shrinks the load
  // gap between them (balance.cc).
  bool periodic_balance = true;
  uint32_t local_first_threshold = 2;
  uint64_t balance_interval_ns = 4 * kMs;
  // A task migrated by the balancer stays put at least this long (anti ping-pong).
  uint64_t migration_cooldown_ns = 8 * kMs;
  // 0: a CPU with one runnable task takes no timer interrupt (tick-free). Otherwise such a CPU
  // arms a timer every busy_tick_ns while it runs the task. Nothing in the kernel needs it;
  // it exists for QEMU's -icount, where one host thread runs the vCPUs in turn and ends a
  // vCPU's turn only at the next timer deadline of the machine or a 100 ms (virtual) kick:
  // a thread spinning in user code alone on its CPU would otherwise hold the whole machine
  // for 100 ms per turn while the thread it waits for cannot run. The harness asks for Linux's
  // HZ=250 tick (`tick=4` on the command line, tools/qemu/run-kernel --icount) so that both
  // kernels are measured with the same turns.
  uint64_t busy_tick_ns = 0;
};

// The active configuration.
const Config& config();
// Sets the configuration. Boot CPU only, before other CPUs run tasks.
void Configure(const Config& config);

}  // namespace lichen::sched
