// The run fingerprint (platform/sim/fingerprint.h): different events never hash alike.
#include "platform/sim/fingerprint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "lib/cpumask.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "workloads/sim_workloads.h"

namespace lichen {
namespace {

using Event = sim::Fingerprint::Event;

constexpr Event kEvents[] = {Event::kResume,  Event::kInterrupt,  Event::kTimeAdvance,
                             Event::kIpiSent, Event::kStoreFlush, Event::kStall};

// A stall of d ns used the IPI's tag with no CPU index: it fed the same words as an IPI to
// CPU 0 followed by d, so the two runs could not be told apart by their fingerprints.
TEST(Fingerprint, AStallIsNotAnIpiToCpuZero) {
  for (uint64_t d : {uint64_t{1}, uint64_t{4'000}, uint64_t{100'000'000}}) {
    sim::Fingerprint stall;
    stall.Add(Event::kStall);
    stall.Mix(d);
    sim::Fingerprint ipi;
    ipi.Add(Event::kIpiSent, 0);
    ipi.Mix(d);
    EXPECT_NE(stall.value(), ipi.value()) << "stall of " << d << " ns";
  }
}

// Every (event, CPU) pair feeds a word of its own.
TEST(Fingerprint, EveryEventAndCpuFeedsItsOwnWord) {
  std::set<uint64_t> values;
  size_t added = 0;
  for (Event event : kEvents) {
    for (uint32_t cpu = 0; cpu < kMaxCpus; ++cpu) {
      sim::Fingerprint f;
      f.Add(event, cpu);
      values.insert(f.value());
      ++added;
    }
  }
  EXPECT_EQ(values.size(), added);
}

// Runs with stalls: the same seed still gives the same fingerprint, and stalls change it.
TEST(Fingerprint, StallsAreInTheFingerprint) {
  const sim::Outcome a = sim::RunWorkload(test::StallOptions("storm", 4, 9));
  const sim::Outcome b = sim::RunWorkload(test::StallOptions("storm", 4, 9));
  ASSERT_TRUE(a.ok) << test::Explain(a);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  const sim::Outcome plain = sim::RunWorkload(test::WorkloadOptions("storm", 4, 9));
  ASSERT_TRUE(plain.ok) << test::Explain(plain);
  EXPECT_NE(a.fingerprint, plain.fingerprint);
}

}  // namespace
}  // namespace lichen
