// Replay lines: every failed run prints one command that runs it again, bit for bit.
//
// A registered workload (workloads/workloads.h) replays with `sim-run` and every option that
// differs from WorkloadOptions() (WorkloadReplay, workloads/sim_workloads.h); the option flags
// live here, beside Options, so that the
// printer and the parser (tools/sim/cli.cc) cannot drift apart. A custom test root is no
// workload sim-run knows: it replays by running its test again with its seed, through the
// formatter the test harness installs (SetCustomRootReplay).
#pragma once

#include <cstdint>
#include <string>

#include "platform/sim/sim.h"

namespace lichen::sim {

// " --flag value" for each option without a flag of its own in tools/sim/cli.cc (the PCT
// depth, latencies, budgets, invariant checks and bounds, scheduler tunables) whose value in
// `options` differs from `base`.
std::string ExtraOptionFlags(const Options& options, const Options& base);

// Sets the option named `flag` (as ExtraOptionFlags writes it) from `value`. False when there
// is no such flag or the value is malformed.
bool SetExtraOption(const std::string& flag, const char* value, Options& options);

// Whether `flag` is one of ExtraOptionFlags()'s.
bool IsExtraOption(const std::string& flag);

// How the replay line of a run from a custom root (Run() outside RunWorkload) is written: the
// test harness knows which test is running and how it reads its seed; the simulator does not.
using CustomRootReplay = std::string (*)(const Options& options);
void SetCustomRootReplay(CustomRootReplay formatter);

// The replay line for a run of a custom root with `options`.
std::string CustomReplay(const Options& options);

}  // namespace lichen::sim
