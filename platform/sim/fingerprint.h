// The fingerprint of a run: a hash of every scheduling decision, so that two runs can be
// compared bit for bit by one number (Outcome::fingerprint).
//
// It hashes a stream of words, FNV-1a over their bytes. An event enters the stream as its tag
// plus a small index (the CPU), then any values it carries. Every kind of event has a tag of
// its own, 0x1000 apart, so that two different events never feed the same word: a machine
// stall once shared the IPI's tag, and a stall of d ns hashed exactly like an IPI to CPU 0
// followed by a word d.
#pragma once

#include <cstdint>

#include "lib/assert.h"

namespace lichen::sim {

class Fingerprint {
 public:
  enum class Event : uint64_t {
    kResume = 0,            // a CPU runs a step; index: the CPU; then the time
    kInterrupt = 0x1000,    // a CPU takes its pending interrupts; index: the CPU
    kTimeAdvance = 0x2000,  // the clock jumps to the next event; then the time
    kIpiSent = 0x3000,      // an IPI leaves for a CPU; index: the target
    kStoreFlush = 0x4000,   // a store buffer writes its oldest store; index: the CPU
    kStall = 0x5000,        // the machine stalls; then its length
  };
  // The room for an event's index below the next tag.
  static constexpr uint64_t kMaxIndex = 0x1000;

  void Add(Event event, uint64_t index = 0) {
    LICHEN_ASSERT(index < kMaxIndex, "fingerprint index {} out of range", index);
    Mix(static_cast<uint64_t>(event) + index);
  }

  // Adds one word (an event's value).
  void Mix(uint64_t value) {
    // FNV-1a over the value's bytes: cheap, deterministic, good enough to tell runs apart.
    for (int i = 0; i < 8; ++i) {
      hash_ ^= (value >> (8 * i)) & 0xff;
      hash_ *= 0x100000001b3ull;
    }
  }

  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

}  // namespace lichen::sim
