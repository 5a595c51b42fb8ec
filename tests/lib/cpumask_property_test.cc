// Property test of lib/cpumask.h against std::bitset<64>: random sequences of set, clear,
// set operations, First/Next walks and iteration.
#include <gtest/gtest.h>

#include <bitset>
#include <vector>

#include "lib/cpumask.h"
#include "lib/random.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

TEST(CpuMaskProperty, MatchesStdBitset) {
  test::ForEachSeed("cpumask-vs-bitset", 200, [](uint64_t seed) {
    Rng rng(seed);
    CpuMask a;
    CpuMask b;
    std::bitset<64> ra;
    std::bitset<64> rb;
    for (int step = 0; step < 2000 && !::testing::Test::HasFailure(); ++step) {
      const auto cpu = static_cast<uint32_t>(rng.Below(kMaxCpus));
      switch (rng.Below(7)) {
        case 0:
          a.Set(cpu);
          ra.set(cpu);
          break;
        case 1:
          a.Clear(cpu);
          ra.reset(cpu);
          break;
        case 2:
          b.Set(cpu);
          rb.set(cpu);
          break;
        case 3:
          a = a | b;
          ra |= rb;
          break;
        case 4:
          a = a & b;
          ra &= rb;
          break;
        case 5:
          a = a.Without(b);
          ra &= ~rb;
          break;
        default: {
          const auto n = static_cast<uint32_t>(rng.Range(0, kMaxCpus));
          b = CpuMask::FirstN(n);
          rb.reset();
          for (uint32_t i = 0; i < n; ++i)
            rb.set(i);
          break;
        }
      }
      ASSERT_EQ(a.Count(), ra.count());
      ASSERT_EQ(a.Empty(), ra.none());
      ASSERT_EQ(a.Test(cpu), ra.test(cpu));
      // First / Next walk and range-for agree with the bitset, in order.
      std::vector<uint32_t> expected;
      for (uint32_t i = 0; i < 64; ++i) {
        if (ra.test(i)) expected.push_back(i);
      }
      std::vector<uint32_t> walked;
      for (uint32_t c = a.First(); c < kMaxCpus; c = a.Next(c))
        walked.push_back(c);
      ASSERT_EQ(walked, expected);
      std::vector<uint32_t> iterated;
      for (uint32_t c : a)
        iterated.push_back(c);
      ASSERT_EQ(iterated, expected);
      ASSERT_EQ(a.bits(), ra.to_ullong());
    }
  });
}

}  // namespace
}  // namespace lichen
