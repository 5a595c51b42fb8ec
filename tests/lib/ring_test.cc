// Unit tests of lib/ring.h, including pushes preempted at each atomic operation.
#include "lib/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tests/lib/interleave.h"

namespace lichen {
namespace {

struct Message {
  uint32_t kind;
  uint64_t payload;
};

// A zero-initialised ring is a valid empty ring, so a global one needs no constructor to run.
constinit BoundedRing<Message, 8> g_static_ring;

TEST(BoundedRing, ConstantInitialisedRingWorks) {
  Message m{};
  EXPECT_TRUE(g_static_ring.EmptyHint());
  EXPECT_FALSE(g_static_ring.TryPop(m));
  for (uint64_t lap = 0; lap < 3; ++lap) {
    for (uint64_t i = 0; i < 8; ++i)
      EXPECT_TRUE(g_static_ring.TryPush(Message{1, lap * 8 + i}));
    EXPECT_FALSE(g_static_ring.TryPush(Message{1, 99}));
    for (uint64_t i = 0; i < 8; ++i) {
      ASSERT_TRUE(g_static_ring.TryPop(m));
      EXPECT_EQ(m.payload, lap * 8 + i);
    }
  }
  EXPECT_TRUE(g_static_ring.EmptyHint());
}

TEST(BoundedRing, EmptyRing) {
  BoundedRing<uint64_t, 4> ring;
  uint64_t out = 99;
  EXPECT_TRUE(ring.EmptyHint());
  EXPECT_FALSE(ring.TryPop(out));
  EXPECT_EQ(out, 99u);
  EXPECT_EQ(ring.Capacity(), 4u);
}

TEST(BoundedRing, FillsToCapacityThenRefuses) {
  BoundedRing<uint64_t, 8> ring;
  for (uint64_t i = 0; i < 8; ++i)
    EXPECT_TRUE(ring.TryPush(i));
  EXPECT_FALSE(ring.TryPush(100));
  EXPECT_FALSE(ring.EmptyHint());
  uint64_t out;
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(ring.TryPop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(ring.TryPop(out));
  EXPECT_TRUE(ring.EmptyHint());
}

TEST(BoundedRing, ManyLapsKeepFifoOrder) {
  BoundedRing<Message, 4> ring;
  uint64_t next_in = 0;
  uint64_t next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    const int pushes = round % 5;
    for (int i = 0; i < pushes; ++i) {
      if (ring.TryPush(Message{static_cast<uint32_t>(next_in % 7), next_in})) ++next_in;
    }
    Message m;
    const int pops = (round * 3) % 5;
    for (int i = 0; i < pops && ring.TryPop(m); ++i) {
      EXPECT_EQ(m.payload, next_out);
      EXPECT_EQ(m.kind, next_out % 7);
      ++next_out;
    }
  }
  EXPECT_GT(next_out, 1000u);
}

// Starts a few positions before the 2^32 wrap of the counters and runs many laps across it,
// filling the ring completely and draining it partly each round.
TEST(BoundedRing, CountersWrapAround) {
  BoundedRing<uint32_t, 4> ring(UINT32_MAX - 5);
  uint32_t next_in = 0;
  uint32_t next_out = 0;
  for (uint32_t round = 0; round < 40; ++round) {
    while (next_in - next_out < 4)
      ASSERT_TRUE(ring.TryPush(next_in++));
    EXPECT_FALSE(ring.TryPush(0xdead));
    for (uint32_t i = 0; i <= round % 4; ++i) {
      uint32_t out;
      ASSERT_TRUE(ring.TryPop(out));
      EXPECT_EQ(out, next_out++);
    }
  }
  uint32_t out;
  while (ring.TryPop(out))
    EXPECT_EQ(out, next_out++);
  EXPECT_EQ(next_in, next_out);
  EXPECT_EQ(next_in, 100u);  // 25 laps of the 4 slots, across the wrap
  EXPECT_TRUE(ring.EmptyHint());
}

// A push of A is preempted before each of its atomic operations by a push of B (another
// producer) and a consumer that pops what it can. Whatever the point: nothing is lost or
// duplicated, and while A has claimed a slot without publishing it the consumer gets nothing
// from that slot (nor from B's, which is behind it) instead of a half-written value.
TEST(BoundedRing, PushPreemptedAtEveryAtomicOperation) {
  for (int fill = 0; fill <= 3; ++fill) {  // items already queued, up to "A finds it full"
    for (int k = 1;; ++k) {
      BoundedRing<Message, 4> ring;
      std::vector<uint64_t> received;
      for (int i = 0; i < fill; ++i)
        ASSERT_TRUE(ring.TryPush(Message{0, 100u + i}));
      auto pop_all = [&] {
        Message m;
        while (ring.TryPop(m)) {
          EXPECT_EQ(m.kind, 0u);
          received.push_back(m.payload);
        }
      };
      bool b_pushed = false;
      bool a_pushed;
      bool fired;
      {
        test::InterleaveAt at(k, [&] {
          b_pushed = ring.TryPush(Message{0, 2});
          pop_all();
        });
        a_pushed = ring.TryPush(Message{0, 1});
        fired = at.fired();
      }
      pop_all();
      std::vector<uint64_t> expected;
      for (int i = 0; i < fill; ++i)
        expected.push_back(100u + i);
      if (a_pushed) expected.push_back(1);
      if (b_pushed) expected.push_back(2);
      std::sort(expected.begin(), expected.end());
      std::vector<uint64_t> sorted = received;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(sorted, expected) << "fill " << fill << ", preempted before atomic op " << k;
      EXPECT_TRUE(a_pushed || fill + (b_pushed ? 1 : 0) == 4) << "A refused a non-full ring";
      // The queued items come first, in order.
      for (int i = 0; i < fill; ++i)
        EXPECT_EQ(received[i], 100u + i);
      if (!fired) break;
    }
  }
}

}  // namespace
}  // namespace lichen
