// Rng: a small deterministic pseudo-random generator for property tests and the simulator.
//
// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018):
// 256 bits of state, period 2^256 - 1, fast, good statistical quality; not cryptographic. The
// state is filled from the 64-bit seed by SplitMix64 (Steele, Lea & Flood, 2014), which spreads
// nearby seeds apart and never yields the all-zero state xoshiro must avoid. The same seed gives
// the same sequence on every platform: integer arithmetic only.
#pragma once

#include <cstdint>

#include "lib/assert.h"

namespace lichen {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t mix = seed;
    for (uint64_t& word : state_)
      word = SplitMix64(mix);
  }

  // The next 64 uniformly distributed bits.
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n), without modulo bias; n must be positive. Lemire's multiply-and-reject
  // ("Fast random integer generation in an interval", 2019): the high word of a 128-bit
  // product, rejecting the few low words that would over-represent some results.
  uint64_t Below(uint64_t n) {
    LICHEN_ASSERT(n > 0, "Rng::Below(0)");
    unsigned __int128 product = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < n) {
      const uint64_t threshold = (uint64_t{0} - n) % n;  // 2^64 mod n
      while (low < threshold) {
        product = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  // Uniform in [lo, hi], both inclusive; lo must not exceed hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    LICHEN_ASSERT(lo <= hi, "Rng::Range({}, {})", lo, hi);
    const uint64_t span = hi - lo;
    if (span == ~uint64_t{0}) return Next();
    return lo + Below(span + 1);
  }

  // True with probability num/den (always when num >= den); den must be positive.
  bool Chance(uint32_t num, uint32_t den) {
    LICHEN_ASSERT(den > 0, "Rng::Chance({}, 0)", num);
    return Below(den) < num;
  }

  // SplitMix64 step: advances `state` and returns a well-mixed value. Public so that tests and
  // the simulator can derive sub-seeds the same way.
  static uint64_t SplitMix64(uint64_t& state) {
    state += 0x9e3779b97f4a7c15;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4];
};

}  // namespace lichen
