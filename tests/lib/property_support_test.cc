// Tests of tests/support/property.h: seed selection from the environment and the report of the
// first failing seed.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/property.h"

namespace lichen::test {
namespace {

// Sets (or unsets) an environment variable for the scope, restoring the previous state.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::vector<uint64_t> SeedsRun(uint64_t default_count) {
  std::vector<uint64_t> seeds;
  ForEachSeed("probe", default_count, [&](uint64_t seed) { seeds.push_back(seed); });
  return seeds;
}

TEST(ForEachSeed, RunsDefaultSeedsFromOne) {
  ScopedEnv seed("LICHEN_SEED", nullptr);
  ScopedEnv seeds("LICHEN_SEEDS", nullptr);
  EXPECT_EQ(SeedsRun(4), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(SeedsRun(0).empty());
}

TEST(ForEachSeed, SeedsVariableOverridesTheCount) {
  ScopedEnv seed("LICHEN_SEED", nullptr);
  ScopedEnv seeds("LICHEN_SEEDS", "6");
  EXPECT_EQ(SeedsRun(2), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(ForEachSeed, SeedVariableRunsOnlyThatSeed) {
  ScopedEnv seed("LICHEN_SEED", "1234");
  ScopedEnv seeds("LICHEN_SEEDS", "6");  // LICHEN_SEED wins
  EXPECT_EQ(SeedsRun(100), (std::vector<uint64_t>{1234}));
}

TEST(ForEachSeed, MalformedVariableFailsTheTest) {
  ScopedEnv seed("LICHEN_SEED", "12x");
  std::vector<uint64_t> seeds;
  EXPECT_NONFATAL_FAILURE(ForEachSeed("probe", 3, [&](uint64_t s) { seeds.push_back(s); }),
                          "LICHEN_SEED=\"12x\" is not a decimal number");
  ScopedEnv negative("LICHEN_SEED", "-1");
  EXPECT_NONFATAL_FAILURE(ForEachSeed("probe", 3, [&](uint64_t s) { seeds.push_back(s); }),
                          "is not a decimal number");
}

using ForEachSeedDeathTest = ::testing::Test;

// Runs in a death-test child: seed 3 fails, so seeds 1..3 must run and 4.. must not, and the
// test must be marked failed. Exits 42 only if all of that held.
[[noreturn]] void FailAtSeedThreeAndExit() {
  unsetenv("LICHEN_SEED");
  unsetenv("LICHEN_SEEDS");
  dup2(2, 1);  // the report goes to stdout; death tests match stderr
  std::vector<uint64_t> seeds;
  ForEachSeed("probe-name", 10, [&](uint64_t seed) {
    seeds.push_back(seed);
    EXPECT_NE(seed, 3u) << "deliberate failure";
  });
  const std::vector<uint64_t> expected = {1, 2, 3};
  const bool ok = seeds == expected && ::testing::Test::HasFailure();
  std::fflush(stdout);
  std::_Exit(ok ? 42 : 1);
}

// One report line names the failing seed and the replay command. (gtest does not print the
// child's failure messages themselves, so only the report line can be matched here.)
TEST(ForEachSeedDeathTest, StopsAtFirstFailingSeedAndPrintsReplay) {
  EXPECT_EXIT(FailAtSeedThreeAndExit(), ::testing::ExitedWithCode(42),
              "\\[ FAILED SEED \\] probe-name seed=3  "
              "\\(replay: LICHEN_SEED=3 [^ ]*lib_tests "
              "--gtest_filter=ForEachSeedDeathTest.StopsAtFirstFailingSeedAndPrintsReplay\\)");
}

}  // namespace
}  // namespace lichen::test
