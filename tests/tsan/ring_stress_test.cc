// BoundedRing on real threads: 2..8 producers push (retrying while full) into one ring while a
// consumer pops. Checked: every value arrives exactly once, each producer's values arrive in
// push order, and no value is torn (each carries a check word derived from the rest). Small
// capacities keep the ring full most of the time; one ring starts its counters just below the
// 2^32 wrap so the stress crosses it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "lib/ring.h"
#include "tests/tsan/stress.h"

namespace lichen {
namespace {

struct Value {
  uint32_t producer;
  uint32_t seq;
  uint64_t check;  // a mix of producer and seq: a torn or stale copy would not match
};

uint64_t CheckWord(uint32_t producer, uint32_t seq) {
  uint64_t x = (static_cast<uint64_t>(producer) << 32 | seq) * 0x9e3779b97f4a7c15ULL;
  return x ^ (x >> 29);
}

constexpr uint32_t kTotalPushes = 40000;

template <uint32_t kCapacity>
void RunStress(uint32_t producers, uint32_t start_position) {
  const uint32_t per_producer = kTotalPushes / producers;
  BoundedRing<Value, kCapacity> ring(start_position);
  test::StartingGate gate;
  std::vector<uint64_t> full_retries(producers, 0);

  // jthreads: an ASSERT that returns early still stops and joins the producers.
  std::vector<std::jthread> threads;
  for (uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p](std::stop_token stop) {
      gate.Wait();
      for (uint32_t s = 0; s < per_producer; ++s) {
        const Value v{p, s, CheckWord(p, s)};
        while (!ring.TryPush(v)) {
          if (stop.stop_requested()) return;
          ++full_retries[p];
          std::this_thread::yield();
        }
      }
    });
  }

  std::vector<uint32_t> next(producers, 0);
  const uint64_t total = static_cast<uint64_t>(per_producer) * producers;
  uint64_t received = 0;
  gate.Open();
  while (received < total) {
    Value v;
    if (!ring.TryPop(v)) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_LT(v.producer, producers);
    ASSERT_EQ(v.check, CheckWord(v.producer, v.seq)) << "torn value";
    ASSERT_EQ(v.seq, next[v.producer]) << "producer " << v.producer;
    ++next[v.producer];
    ++received;
  }
  for (std::jthread& t : threads)
    t.join();
  Value extra;
  EXPECT_FALSE(ring.TryPop(extra));
  EXPECT_TRUE(ring.EmptyHint());
  for (uint32_t p = 0; p < producers; ++p)
    EXPECT_EQ(next[p], per_producer);
  uint64_t retries = 0;
  for (uint64_t r : full_retries)
    retries += r;
  ::testing::Test::RecordProperty("full_retries", static_cast<int>(retries));
}

class RingStress : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RingStress, Capacity4) {
  RunStress<4>(GetParam(), 0);
}
TEST_P(RingStress, Capacity64) {
  RunStress<64>(GetParam(), 0);
}
TEST_P(RingStress, Capacity16AcrossCounterWrap) {
  RunStress<16>(GetParam(), UINT32_MAX - 5000);
}

INSTANTIATE_TEST_SUITE_P(Producers, RingStress, ::testing::Values(2u, 4u, 8u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::to_string(info.param) + "Producers";
                         });

}  // namespace
}  // namespace lichen
