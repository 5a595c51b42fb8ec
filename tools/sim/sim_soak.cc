// sim-soak: many simulator seeds of the randomized workloads, on several CPU counts.
//
//   sim-soak --seeds 100000 [--cpus 1,2,4,8] [--workload mixed] [--first-seed S]
//
// Prints progress, every failure with its replay command, and a summary; exits non-zero if
// any seed failed. The test suite runs a smaller range of the same runs (tests/sim).
#include <chrono>
#include <cstdio>

#include "platform/sim/sim.h"
#include "tools/sim/cli.h"
#include "workloads/sim_workloads.h"

int main(int argc, char** argv) {
  lichen::tools::SimArgs args;
  args.cpus = {1, 2, 4, 8};
  if (!lichen::tools::ParseSimArgs(argc, argv, args)) return 2;
  const auto start = std::chrono::steady_clock::now();
  uint64_t runs = 0;
  uint64_t failures = 0;
  for (uint64_t i = 0; i < args.seeds; ++i) {
    const uint64_t seed = args.seed + i;
    for (uint32_t ncpus : args.cpus) {
      const lichen::sim::Outcome result =
          lichen::sim::RunWorkload(lichen::tools::OptionsFor(args, ncpus, seed), args.scale);
      ++runs;
      if (!result.ok) {
        ++failures;
        std::printf("FAILED seed=%llu cpus=%u: [%s] %s\n  replay: %s\n",
                    static_cast<unsigned long long>(seed), ncpus,
                    lichen::sim::FailureName(result.kind), result.failure.c_str(),
                    result.replay.c_str());
        std::fflush(stdout);
      }
    }
    if (!args.quiet && (i + 1) % 1000 == 0) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("... %llu seeds, %llu runs, %llu failures, %.0f s\n",
                  static_cast<unsigned long long>(i + 1), static_cast<unsigned long long>(runs),
                  static_cast<unsigned long long>(failures), secs);
      std::fflush(stdout);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sim-soak: workload %s, seeds %llu..%llu, %llu runs, %llu failures, %.0f s\n",
              args.workload.c_str(), static_cast<unsigned long long>(args.seed),
              static_cast<unsigned long long>(args.seed + args.seeds - 1),
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(failures),
              secs);
  return failures == 0 ? 0 : 1;
}
