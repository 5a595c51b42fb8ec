// sim-run: runs one workload in the simulator and prints what happened.
//
//   sim-run --workload mixed --cpus 4 --seed 123 [--placement local-first|round-robin|
//           least-loaded] [--no-steal] [--no-balance] [--scale N] [--trace FILE]
//           [--stall-one-in N [--max-stall-ns NS]]   (machine stalls: sim::Options)
//           [--weak-memory N]   (store buffers, flushed one in N steps: sim::Options)
//           [--local-first-threshold N --pct-depth D --check-idle-balance 0|1 ...]
//                               (every other sim::Options field: platform/sim/replay.cc)
//
// This is the replay command a failing run of a registered workload prints, with every
// option that is not the default.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "platform/sim/sim.h"
#include "tools/sim/cli.h"
#include "workloads/workloads.h"

int main(int argc, char** argv) {
  lichen::tools::SimArgs args;
  if (!lichen::tools::ParseSimArgs(argc, argv, args)) return 2;
  const lichen::sim::Outcome result = lichen::tools::RunNamed(args);
  lichen::tools::PrintResult(args, result);
  return result.ok ? 0 : 1;
}
