// Scheduling weights: how much CPU a task gets per nice level.
//
// The table is Linux's published sched_prio_to_weight constant: nice 0 weighs 1024 and every
// nice step changes the weight by about 1.25x, so one level up or down moves a CPU-bound task's
// share by roughly 10% against a nice-0 competitor. Freestanding: constexpr only.
#pragma once

#include <array>
#include <cstdint>

namespace lichen::sched {

// Weight of a nice-0 task; virtual time advances at real speed at this weight.
inline constexpr uint32_t kNice0Weight = 1024;
// The nice range; values outside it are clamped.
inline constexpr int kMinNice = -20;
inline constexpr int kMaxNice = 19;

// Weight for each nice level from kMinNice (index 0) to kMaxNice (index 39).
inline constexpr std::array<uint32_t, 40> kNiceToWeight = {
    /* -20 */ 88761, 71755, 56483, 46273, 36291,
    /* -15 */ 29154, 23254, 18705, 14949, 11916,
    /* -10 */ 9548,  7620,  6100,  4904,  3906,
    /*  -5 */ 3121,  2501,  1991,  1586,  1277,
    /*   0 */ 1024,  820,   655,   526,   423,
    /*   5 */ 335,   272,   215,   172,   137,
    /*  10 */ 110,   87,    70,    56,    45,
    /*  15 */ 36,    29,    23,    18,    15,
};

// The heaviest and lightest weights (used in overflow bounds).
inline constexpr uint32_t kMaxWeight = kNiceToWeight.front();
inline constexpr uint32_t kMinWeight = kNiceToWeight.back();

// `nice` clamped to kMinNice..kMaxNice.
constexpr int ClampNice(int nice) {
  return nice < kMinNice ? kMinNice : (nice > kMaxNice ? kMaxNice : nice);
}

// The weight of a task at `nice` (clamped to the valid range).
constexpr uint32_t WeightForNice(int nice) {
  return kNiceToWeight[static_cast<size_t>(ClampNice(nice) - kMinNice)];
}

static_assert(WeightForNice(0) == kNice0Weight);
static_assert(WeightForNice(-100) == 88761 && WeightForNice(100) == 15);

}  // namespace lichen::sched
