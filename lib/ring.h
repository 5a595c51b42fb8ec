// BoundedRing: a fixed-capacity lock-free multi-producer single-consumer queue of small values.
//
// For messages that carry no object to embed a node in (steal requests, reschedule hints):
// values are copied in, so T must be trivially copyable. TryPush never blocks and fails only
// when the ring is full; TryPop belongs to one consumer.
//
// The algorithm is Dmitry Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC queue")
// reduced to one consumer. Each slot carries a sequence number that says whose turn it is:
//   sequence == pos               free for the producer that claims position `pos`
//   sequence == pos + 1           holds the value for position `pos`, ready for the consumer
//   sequence == pos + kCapacity   consumed; free for position pos + kCapacity (next lap)
// A producer claims a position with a CAS on enqueue_pos_, writes the value, then publishes
// it with a release store of the sequence. The consumer reads a slot only after an acquire
// load shows the publication, and hands it back with a release store after copying out. So a
// slow producer can never corrupt a slot: nobody else writes it until it has published and the
// consumer has taken its value. The flip side: a producer stalled between its claim and its
// publication makes TryPop report "nothing" for that position (later positions wait behind
// it) until it finishes; nothing is lost. Producers should therefore push with IRQs masked.
//
// Each slot stores its sequence number minus its own index (`turn`; for position `pos` that is
// pos & ~kMask plus 0, 1 or kCapacity). Vyukov's initial state, slot i at sequence i, is then
// all zeros: a zero-initialised ring is a valid empty ring, so a per-CPU mailbox can be
// constant-initialised (constinit, .bss) and used before any constructor has run.
//
// Positions are 32-bit counters compared by signed difference, so they wrap safely (capacity
// is far below 2^31).
#pragma once

#include <cstdint>
#include <type_traits>

#include "lib/assert.h"
#include "lib/atomic.h"

namespace lichen {

template <typename T, uint32_t kCapacity>
class BoundedRing {
  static_assert(std::is_trivially_copyable_v<T>,
                "BoundedRing copies values: T must be "
                "trivially copyable");
  static_assert(kCapacity >= 2 && (kCapacity & (kCapacity - 1)) == 0,
                "capacity must be a power of two, at least 2 (with 1, 'full for this lap' and "
                "'free for the next' would share a sequence number)");
  static_assert(kCapacity <= (uint32_t{1} << 30), "capacity must stay far below 2^31");

 public:
  // An empty ring: all zeros (see above), so constant-initialisable.
  constexpr BoundedRing() = default;
  // Starts the position counters at `start_position` instead of 0. Behaviour is identical;
  // tests use it to cross the 2^32 wrap of the counters quickly.
  explicit BoundedRing(uint32_t start_position)
      : enqueue_pos_(start_position), dequeue_pos_(start_position) {
    for (uint32_t i = 0; i < kCapacity; ++i) {
      const uint32_t pos = start_position + i;  // the first position each slot will serve
      slots_[pos & kMask].turn.Store(Lap(pos), std::memory_order_relaxed);
    }
  }
  BoundedRing(const BoundedRing&) = delete;
  BoundedRing& operator=(const BoundedRing&) = delete;

  static constexpr uint32_t Capacity() { return kCapacity; }

  // Appends `value` from any context; lock-free. Returns false, changing nothing, when the
  // ring is full.
  bool TryPush(const T& value) {
    uint32_t pos = enqueue_pos_.Load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & kMask];
      // Acquire: if the slot was consumed a lap ago, the consumer's read of it happens before
      // our write below. diff is Vyukov's sequence - pos.
      const uint32_t turn = slot.turn.Load(std::memory_order_acquire);
      const int32_t diff = static_cast<int32_t>(turn - Lap(pos));
      if (diff == 0) {
        // Free for `pos`: claim it. On failure `pos` is refreshed and we retry.
        if (enqueue_pos_.CompareExchange(pos, pos + 1, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
          slot.value = value;
          slot.turn.Store(Lap(pos) + 1, std::memory_order_release);  // publish
          return true;
        }
      } else if (diff < 0) {
        return false;  // still holds the value from one lap ago: full
      } else {
        pos = enqueue_pos_.Load(std::memory_order_relaxed);  // another producer got `pos`
      }
    }
  }

  // Consumer only: moves the oldest value into `out` and returns true, or returns false when
  // there is none ready (empty, or its producer has not finished publishing).
  bool TryPop(T& out) {
    const uint32_t pos = dequeue_pos_.Load(std::memory_order_relaxed);  // only we write it
    Slot& slot = slots_[pos & kMask];
    const uint32_t turn = slot.turn.Load(std::memory_order_acquire);
    if (static_cast<int32_t>(turn - (Lap(pos) + 1)) < 0) return false;
    LICHEN_DEBUG_ASSERT(turn == Lap(pos) + 1, "ring slot turn {} at position {}", turn, pos);
    out = slot.value;
    // Release: our read of the value happens before the next lap's producer writes it.
    slot.turn.Store(Lap(pos) + kCapacity, std::memory_order_release);
    dequeue_pos_.Store(pos + 1, std::memory_order_relaxed);
    return true;
  }

  // Racy peek: true when no position is claimed beyond the consumer's. May be stale at once.
  bool EmptyHint() const {
    return enqueue_pos_.Load(std::memory_order_relaxed) ==
           dequeue_pos_.Load(std::memory_order_relaxed);
  }

 private:
  static constexpr uint32_t kMask = kCapacity - 1;

  // Position minus its slot index: the turn value of a slot free for `pos`.
  static constexpr uint32_t Lap(uint32_t pos) { return pos & ~kMask; }

  struct Slot {
    Atomic<uint32_t> turn;  // Vyukov's sequence number minus this slot's index
    T value{};
  };

  // Producers and the consumer write different counters: keep them on separate cache lines.
  alignas(64) Atomic<uint32_t> enqueue_pos_{0};  // next position to claim (producers)
  alignas(64) Atomic<uint32_t> dequeue_pos_{0};  // next position to read (consumer writes)
  alignas(64) Slot slots_[kCapacity] = {};
};

}  // namespace lichen
