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
};

// The active configuration.
const Config& config();
// Sets the configuration. Boot CPU only, before other CPUs run tasks.
void Configure(const Config& config);

}  // namespace lichen::sched
