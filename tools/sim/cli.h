// Command-line plumbing shared by the simulator tools.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lib/units.h"
#include "platform/sim/sim.h"

namespace lichen::tools {

struct SimArgs {
  std::string workload = "mixed";
  std::vector<uint32_t> cpus = {4};
  uint64_t seed = 1;
  uint64_t seeds = 1;  // sim-soak: how many
  uint32_t scale = 1;
  sched::Placement placement = sched::Config{}.placement;
  bool steal = true;
  bool balance = true;
  std::string trace;
  uint64_t max_steps = 0;     // 0: the simulator's default
  uint32_t stall_one_in = 0;  // machine stalls (sim::Options), 0: none
  uint64_t max_stall_ns = 100 * kMs;
  uint32_t store_flush_one_in = 0;  // weak memory (sim::Options::weak_memory), 0: off
  bool quiet = false;
  // The other sim::Options flags (platform/sim/replay.h: --local-first-threshold, --pct-depth,
  // the checks ...), flag and value, applied in order after the ones above.
  std::vector<std::pair<std::string, std::string>> extra;
};

// Parses the flags (see each tool's header comment); prints usage and returns false on error.
bool ParseSimArgs(int argc, char** argv, SimArgs& args);

// Simulator options for `args` with `ncpus` CPUs and `seed`.
sim::Options OptionsFor(const SimArgs& args, uint32_t ncpus, uint64_t seed);

// Runs args.workload with args.cpus[0] and args.seed.
sim::Outcome RunNamed(const SimArgs& args);

// Prints a human-readable summary: outcome, virtual time, per-CPU counters.
void PrintResult(const SimArgs& args, const sim::Outcome& result);

}  // namespace lichen::tools
