// Seeded property tests: run a body for many seeds, report the first failing one with a replay
// command, and let the environment pick seeds.
//
//   TEST(RbTreeProperty, MatchesStdSet) {
//     lichen::test::ForEachSeed("rbtree-vs-set", 200, [](uint64_t seed) {
//       lichen::Rng rng(seed);
//       ...  EXPECT_/ASSERT_ as usual  ...
//     });
//   }
//
// Environment:
//   LICHEN_SEED=<n>    run only seed n (to replay a failure)
//   LICHEN_SEEDS=<n>   run seeds 1..n instead of the default count (to soak)
// Seeds count from 1. A malformed variable fails the test rather than being ignored.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace lichen::test {

// Parses environment variable `name` as a decimal uint64_t. Returns false if it is unset; on a
// malformed value records a test failure and returns false.
inline bool SeedFromEnv(const char* name, uint64_t& out) {
  const char* text = std::getenv(name);
  if (text == nullptr) return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*text == '\0' || *text == '-' || *end != '\0' || errno != 0) {
    ADD_FAILURE() << name << "=\"" << text << "\" is not a decimal number";
    return false;
  }
  out = value;
  return true;
}

// Path of the running test binary, for the replay line.
inline std::string TestBinaryPath() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "<test binary>";
  path[n] = '\0';
  return path;
}

// Runs body(seed) for seeds 1..default_count (or as the environment says, see above). Stops at
// the first seed after which the current test has failed, and prints a line naming the seed and
// how to replay it alone. Every failure message inside body carries "seed=<n>" as a trace.
template <typename F>
void ForEachSeed(const char* name, uint64_t default_count, F body) {
  uint64_t first = 1;
  uint64_t last = default_count;
  uint64_t value = 0;
  if (SeedFromEnv("LICHEN_SEED", value)) {
    first = last = value;
  } else if (SeedFromEnv("LICHEN_SEEDS", value)) {
    last = value;
  }
  if (::testing::Test::HasFailure()) return;  // a malformed variable, or an earlier failure
  for (uint64_t seed = first; seed <= last && seed >= first; ++seed) {
    {
      SCOPED_TRACE(::testing::Message() << name << " seed=" << seed);
      body(seed);
    }
    if (::testing::Test::HasFailure()) {
      const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
      std::string filter = info != nullptr
                               ? std::string(info->test_suite_name()) + "." + info->name()
                               : std::string("*");
      std::printf("[ FAILED SEED ] %s seed=%llu  (replay: LICHEN_SEED=%llu %s --gtest_filter=%s)\n",
                  name, static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(seed), TestBinaryPath().c_str(), filter.c_str());
      std::fflush(stdout);
      return;
    }
  }
}

}  // namespace lichen::test
