// Time units, in nanoseconds: every clock, deadline and duration in Lichen counts ns
// (platform::Now(), timer deadlines, slices), so a duration reads `3 * kMs` rather than a
// literal whose zeros have to be counted. One definition, for the kernel, the platforms, the
// workloads, the tests and the benchmarks alike.
#pragma once

#include <cstdint>

namespace lichen {

inline constexpr uint64_t kUs = 1'000;         // one microsecond in ns
inline constexpr uint64_t kMs = 1'000 * kUs;   // one millisecond in ns
inline constexpr uint64_t kSec = 1'000 * kMs;  // one second in ns

}  // namespace lichen
