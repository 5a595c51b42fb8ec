// Named workloads (workloads/workloads.h) as simulator roots. Host only: the simulator sits
// below the workloads it runs, and this is where the two meet.
#pragma once

#include <cstdint>
#include <string>

#include "platform/sim/sim.h"

namespace lichen::sim {

// Options for running the workload `name` (workloads/workloads.h) on `ncpus` CPUs with `seed`:
// the defaults, except that a workload that pins tasks turns off the idle-balance check.
Options WorkloadOptions(const char* name, uint32_t ncpus, uint64_t seed);

// Runs the workload named options.workload at `scale` as the root task, with its own checks
// on. A name that is no workload fails the run.
Outcome RunWorkload(const Options& options, uint32_t scale = 1);

// The sim-run command that replays options.workload at `scale` with `options`: the workload,
// CPU count and seed, then every option that differs from WorkloadOptions() for them.
std::string WorkloadReplay(const Options& options, uint32_t scale);

}  // namespace lichen::sim
