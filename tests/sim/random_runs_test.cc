// Randomized runs: many seeds of the mixed workload (spawn/exit storms, cross-CPU ping-pong,
// sleepers, nice-weighted burners, mutex contention, yield storms, all at once) on 1, 2, 4
// and 8 CPUs, under every placement policy, with and without stealing and balancing. Every
// run must end with zero invariant failures; a failure prints its seed and replay command.
//
// LICHEN_SEEDS=<n> changes the number of seeds per CPU count; `./lichen sim-soak` runs the
// large soak (100 000 seeds) outside the test suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "kernel/sched/config.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/support/property.h"
#include "workloads/sim_workloads.h"

namespace lichen {
namespace {

// Seeds per CPU count in the test suite (4 CPU counts: 4x this many runs in all).
constexpr uint64_t kSeedsPerCpuCount = 1000;

// The seed also picks the scheduler configuration, so every policy gets its share of seeds.
sim::Options MixedOptions(uint32_t ncpus, uint64_t seed) {
  sim::Options options = test::WorkloadOptions("mixed", ncpus, seed);
  switch (seed % 3) {
    case 0:
      options.sched.placement = sched::Placement::kRoundRobin;
      break;
    case 1:
      options.sched.placement = sched::Placement::kLocalFirst;
      break;
    default:
      options.sched.placement = sched::Placement::kLeastLoaded;
      break;
  }
  options.sched.steal = seed % 5 != 4;
  options.sched.periodic_balance = seed % 7 != 6;
  return options;
}

class RandomRuns : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RandomRuns, MixedWorkloadHoldsEveryInvariant) {
  const uint32_t ncpus = GetParam();
  test::ForEachSeed("mixed", kSeedsPerCpuCount, [&](uint64_t seed) {
    const sim::Outcome result = test::RunWorkload(MixedOptions(ncpus, seed));
    ASSERT_TRUE(result.ok) << "cpus=" << ncpus << " seed=" << seed << ": " << test::Explain(result);
  });
}

INSTANTIATE_TEST_SUITE_P(Cpus, RandomRuns, ::testing::Values(1u, 2u, 4u, 8u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::to_string(info.param) + "cpus";
                         });

// Every single workload on its own, on every CPU count, a few seeds each.
class EachWorkload : public ::testing::TestWithParam<std::tuple<const char*, uint32_t>> {};

TEST_P(EachWorkload, Passes) {
  const char* name = std::get<0>(GetParam());
  const uint32_t ncpus = std::get<1>(GetParam());
  test::ForEachSeed(name, 10, [&](uint64_t seed) {
    const sim::Outcome result = test::RunWorkload(test::WorkloadOptions(name, ncpus, seed));
    ASSERT_TRUE(result.ok) << name << " cpus=" << ncpus << ": " << test::Explain(result);
  });
}

INSTANTIATE_TEST_SUITE_P(
    All, EachWorkload,
    ::testing::Combine(::testing::Values("storm", "pingpong", "sleepers", "burners", "mutex",
                                         "yield", "parallel", "mixed", "mixed-work"),
                       ::testing::Values(1u, 2u, 4u, 8u)),
    [](const ::testing::TestParamInfo<std::tuple<const char*, uint32_t>>& info) {
      std::string name = std::get<0>(info.param);
      std::replace(name.begin(), name.end(), '-', '_');  // gtest names: letters, digits, _
      return name + "_" + std::to_string(std::get<1>(info.param)) + "cpus";
    });

}  // namespace
}  // namespace lichen
