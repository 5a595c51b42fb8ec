// Unit tests of lib/cpumask.h.
#include "lib/cpumask.h"

#include <gtest/gtest.h>

#include <vector>

namespace lichen {
namespace {

std::vector<uint32_t> Cpus(CpuMask mask) {
  std::vector<uint32_t> cpus;
  for (uint32_t cpu : mask)
    cpus.push_back(cpu);
  return cpus;
}

TEST(CpuMask, EmptyMask) {
  constexpr CpuMask empty;
  static_assert(empty.Empty());
  EXPECT_EQ(empty.Count(), 0u);
  EXPECT_EQ(empty.First(), kMaxCpus);
  EXPECT_EQ(empty.Next(0), kMaxCpus);
  EXPECT_TRUE(Cpus(empty).empty());
}

TEST(CpuMask, SingleAndFirstN) {
  EXPECT_EQ(CpuMask::Single(0).bits(), 1u);
  EXPECT_EQ(CpuMask::Single(63).bits(), uint64_t{1} << 63);
  EXPECT_EQ(CpuMask::FirstN(0).bits(), 0u);
  EXPECT_EQ(CpuMask::FirstN(1).bits(), 1u);
  EXPECT_EQ(CpuMask::FirstN(4).bits(), 0xfu);
  EXPECT_EQ(CpuMask::FirstN(63).bits(), ~uint64_t{0} >> 1);
  EXPECT_EQ(CpuMask::FirstN(64).bits(), ~uint64_t{0});
  EXPECT_EQ(CpuMask::FirstN(100).bits(), ~uint64_t{0});
  EXPECT_EQ(CpuMask::FirstN(64).Count(), 64u);
}

TEST(CpuMask, SetClearTest) {
  CpuMask m;
  m.Set(3);
  m.Set(63);
  m.Set(3);
  EXPECT_TRUE(m.Test(3));
  EXPECT_TRUE(m.Test(63));
  EXPECT_FALSE(m.Test(4));
  EXPECT_FALSE(m.Test(64));  // out of range is simply absent
  EXPECT_FALSE(m.Test(1000));
  EXPECT_EQ(m.Count(), 2u);
  m.Clear(3);
  EXPECT_FALSE(m.Test(3));
  m.Clear(5);  // clearing an absent CPU is harmless
  EXPECT_EQ(m.Count(), 1u);
}

TEST(CpuMask, FirstNextAndIteration) {
  CpuMask m;
  for (uint32_t cpu : {0u, 5u, 6u, 31u, 32u, 63u})
    m.Set(cpu);
  EXPECT_EQ(m.First(), 0u);
  EXPECT_EQ(m.Next(0), 5u);
  EXPECT_EQ(m.Next(5), 6u);
  EXPECT_EQ(m.Next(6), 31u);
  EXPECT_EQ(m.Next(31), 32u);
  EXPECT_EQ(m.Next(32), 63u);
  EXPECT_EQ(m.Next(63), kMaxCpus);
  EXPECT_EQ(m.Next(62), 63u);
  EXPECT_EQ(Cpus(m), (std::vector<uint32_t>{0, 5, 6, 31, 32, 63}));
  std::vector<uint32_t> via_next;
  for (uint32_t cpu = m.First(); cpu < kMaxCpus; cpu = m.Next(cpu))
    via_next.push_back(cpu);
  EXPECT_EQ(via_next, Cpus(m));
}

TEST(CpuMask, SetOperations) {
  const CpuMask a(0b1100);
  const CpuMask b(0b1010);
  EXPECT_EQ((a & b).bits(), 0b1000u);
  EXPECT_EQ((a | b).bits(), 0b1110u);
  EXPECT_EQ(a.Without(b).bits(), 0b0100u);
  EXPECT_TRUE(a == CpuMask(0b1100));
  EXPECT_FALSE(a == b);
}

TEST(AtomicCpuMask, AddRemoveTakeAll) {
  AtomicCpuMask m;
  EXPECT_TRUE(m.Load(std::memory_order_relaxed).Empty());
  EXPECT_TRUE(m.Add(2, std::memory_order_relaxed).Empty());
  EXPECT_EQ(m.Add(7, std::memory_order_relaxed), CpuMask::Single(2));
  EXPECT_EQ(m.Add(7, std::memory_order_relaxed).Count(), 2u);
  EXPECT_EQ(m.Remove(2, std::memory_order_relaxed).Count(), 2u);
  EXPECT_EQ(m.Load(std::memory_order_relaxed), CpuMask::Single(7));
  EXPECT_EQ(m.TakeAll(std::memory_order_relaxed), CpuMask::Single(7));
  EXPECT_TRUE(m.Load(std::memory_order_relaxed).Empty());
}

}  // namespace
}  // namespace lichen
