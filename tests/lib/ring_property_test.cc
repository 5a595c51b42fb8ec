// Property test of lib/ring.h on one thread against a bounded std::deque model: random bursts
// of pushes and pops, from random starting counters (including just before the 2^32 wrap).
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "lib/random.h"
#include "lib/ring.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

struct Message {
  uint64_t sequence;
  uint64_t check;  // ~sequence: a torn or stale copy would not match
};

// `start` empty: a default-constructed (all-zero) ring; otherwise counters start there.
template <uint32_t kCapacity>
void RunSeed(Rng& rng, std::optional<uint32_t> start) {
  auto made = start ? std::make_unique<BoundedRing<Message, kCapacity>>(*start)
                    : std::make_unique<BoundedRing<Message, kCapacity>>();
  BoundedRing<Message, kCapacity>& ring = *made;
  std::deque<uint64_t> model;
  uint64_t next = 0;
  for (int step = 0; step < 3000 && !::testing::Test::HasFatalFailure(); ++step) {
    // Bursts, so the ring often fills up and drains completely.
    const bool push = rng.Chance(1, 2);
    const uint64_t burst = 1 + rng.Below(kCapacity + 2);
    for (uint64_t i = 0; i < burst; ++i) {
      if (push) {
        const bool accepted = ring.TryPush(Message{next, ~next});
        ASSERT_EQ(accepted, model.size() < kCapacity) << "step " << step;
        if (accepted) model.push_back(next++);
      } else {
        Message m{};
        const bool got = ring.TryPop(m);
        ASSERT_EQ(got, !model.empty()) << "step " << step;
        if (!got) continue;
        ASSERT_EQ(m.sequence, model.front());
        ASSERT_EQ(m.check, ~m.sequence);
        model.pop_front();
      }
      ASSERT_EQ(ring.EmptyHint(), model.empty());
    }
  }
}

TEST(BoundedRingProperty, MatchesBoundedDequeModel) {
  test::ForEachSeed("ring-vs-deque", 150, [](uint64_t seed) {
    Rng rng(seed);
    // A third each: the default (zero-initialised) ring, random counters, counters just below
    // the 2^32 wrap.
    std::optional<uint32_t> start;
    switch (rng.Below(3)) {
      case 0:
        break;
      case 1:
        start = static_cast<uint32_t>(rng.Next());
        break;
      default:
        start = UINT32_MAX - static_cast<uint32_t>(rng.Below(64));
        break;
    }
    switch (rng.Below(3)) {
      case 0:
        RunSeed<2>(rng, start);
        break;
      case 1:
        RunSeed<8>(rng, start);
        break;
      default:
        RunSeed<64>(rng, start);
        break;
    }
  });
}

}  // namespace
}  // namespace lichen
