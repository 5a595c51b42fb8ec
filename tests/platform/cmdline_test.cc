// Host tests of the kernel command line helpers (platform/aarch64/cmdline.cc): unit cases, and
// a seeded property test against the reference model of cmdline_reference.h.
#include "platform/aarch64/cmdline.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/random.h"
#include "tests/platform/cmdline_reference.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

TEST(CmdlineOption, FindsKeysAndValues) {
  EXPECT_EQ(CmdlineOption("ktests maxcpus=2", "maxcpus"), "2");
  EXPECT_EQ(CmdlineOption("ktests maxcpus=2", "ktests"), "");
  EXPECT_EQ(CmdlineOption("ktests maxcpus=2", "ktest"), std::nullopt);
  EXPECT_EQ(CmdlineOption("ktests maxcpus=2", "max"), std::nullopt);
  EXPECT_EQ(CmdlineOption("", "x"), std::nullopt);
  EXPECT_EQ(CmdlineOption("   ", "x"), std::nullopt);
  EXPECT_EQ(CmdlineOption("a=1 a=2", "a"), "2");  // the last one wins
  EXPECT_EQ(CmdlineOption("a=b=c", "a"), "b=c");  // the first '=' splits
  EXPECT_EQ(CmdlineOption("a=", "a"), "");
  EXPECT_EQ(CmdlineOption("  seed=5  ", "seed"), "5");
}

TEST(CmdlineOption, AnyWhiteSpaceSeparatesWords) {
  // Regression: only ' ' separated words, so "ktests\tseed=5" was one word and a bootargs
  // ending in a newline hid its last option.
  EXPECT_EQ(CmdlineOption("ktests\tseed=5", "seed"), "5");
  EXPECT_EQ(CmdlineOption("ktests\tseed=5", "ktests"), "");
  EXPECT_EQ(CmdlineOption("placement=least-loaded\n", "placement"), "least-loaded");
  EXPECT_EQ(CmdlineOption("a=1\r\nb=2", "b"), "2");
}

TEST(CmdlineOption, StopsAtTheEndOfOptions) {
  // Words after "--" are init's arguments, not kernel options.
  EXPECT_EQ(CmdlineOption("init=/bin/t -- ktests", "ktests"), std::nullopt);
  EXPECT_EQ(CmdlineOption("init=/bin/t -- init=/x", "init"), "/bin/t");
  EXPECT_EQ(CmdlineOption("a=1 -- a=2", "a"), "1");
  EXPECT_EQ(CmdlineOption("a=1 --x a=2", "a"), "2");  // only the whole word "--"
  EXPECT_EQ(CmdlineOption("-- a=2", "a"), std::nullopt);
  EXPECT_EQ(CmdlineOption("a=1 --", "a"), "1");
}

std::vector<std::string> InitArgs(std::string_view cmdline, size_t max = 8) {
  std::string_view words[8];
  const size_t n = CmdlineInitArgs(cmdline, words, max);
  std::vector<std::string> out;
  for (size_t i = 0; i < n && i < max; ++i)
    out.emplace_back(words[i]);
  if (n > max) out.emplace_back("<" + std::to_string(n - max) + " more>");
  return out;
}

TEST(CmdlineInitArgs, WordsAfterTheFirstDoubleDash) {
  using V = std::vector<std::string>;
  EXPECT_EQ(InitArgs("init=/bin/usertest -- -v 3"), (V{"-v", "3"}));
  EXPECT_EQ(InitArgs("init=/bin/usertest"), V{});
  EXPECT_EQ(InitArgs("init=/bin/usertest --"), V{});
  EXPECT_EQ(InitArgs("init=/bin/usertest -- "), V{});
  EXPECT_EQ(InitArgs("--"), V{});
  EXPECT_EQ(InitArgs(""), V{});
  EXPECT_EQ(InitArgs("a -- b -- c"), (V{"b", "--", "c"}));  // only the first one separates
  EXPECT_EQ(InitArgs("a --\tb\n\tc\n"), (V{"b", "c"}));
  EXPECT_EQ(InitArgs("a --b c"), V{});  // "--b" is an ordinary word
  EXPECT_EQ(InitArgs("-- 1 2 3", 2), (V{"1", "2", "<1 more>"}));
}

TEST(ParseUint, DecimalAndHex) {
  EXPECT_EQ(ParseUint("0"), 0u);
  EXPECT_EQ(ParseUint("42"), 42u);
  EXPECT_EQ(ParseUint("0x2a"), 42u);
  EXPECT_EQ(ParseUint("0X2A"), 42u);
  EXPECT_EQ(ParseUint("007"), 7u);
  EXPECT_EQ(ParseUint("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseUint("0xffffffffffffffff"), UINT64_MAX);
}

TEST(ParseUint, Refusals) {
  for (std::string_view bad :
       {"", "x", "0x", "-1", "+1", " 1", "1 ", "1a", "0xg", "0x-1", "18446744073709551616",
        "0x10000000000000000", "99999999999999999999"}) {
    EXPECT_EQ(ParseUint(bad), std::nullopt) << bad;
  }
}

using test::RefCmdlineOption;
using test::RefInitArgs;
using test::RefParseUint;

TEST(CmdlineProperty, MatchesTheReferenceModel) {
  // Words from a small alphabet so that keys repeat, values are often numbers, and every
  // separator and the '=' edge cases occur.
  const std::vector<std::string> pieces = {"a",
                                           "b",
                                           "ab",
                                           "=",
                                           "=",
                                           "1",
                                           "0x",
                                           "f",
                                           "9",
                                           " ",
                                           " ",
                                           "\t",
                                           "\n",
                                           "x=",
                                           "-",
                                           "0",
                                           "18446744073709551615",
                                           "ff",
                                           "--",
                                           " -- "};
  test::ForEachSeed("cmdline-vs-reference", 2000, [&](uint64_t seed) {
    Rng rng(seed);
    std::string cmdline;
    const uint64_t n = rng.Below(12);
    for (uint64_t i = 0; i < n; ++i)
      cmdline += pieces[rng.Below(pieces.size())];
    for (const std::string key : {"a", "b", "ab", "", "x"}) {
      const auto got = CmdlineOption(cmdline, key);
      const auto want = RefCmdlineOption(cmdline, key);
      ASSERT_EQ(got.has_value(), want.has_value()) << '"' << cmdline << "\" key " << key;
      if (got) {
        ASSERT_EQ(std::string(*got), *want) << '"' << cmdline << "\" key " << key;
        ASSERT_EQ(ParseUint(*got), RefParseUint(*want)) << '"' << *want << '"';
      }
    }
    ASSERT_EQ(ParseUint(cmdline), RefParseUint(cmdline)) << '"' << cmdline << '"';
    std::string_view words[4];
    const size_t count = CmdlineInitArgs(cmdline, words, 4);
    const std::vector<std::string> want = RefInitArgs(cmdline);
    ASSERT_EQ(count, want.size()) << '"' << cmdline << '"';
    for (size_t i = 0; i < count && i < 4; ++i)
      ASSERT_EQ(std::string(words[i]), want[i]) << '"' << cmdline << "\" word " << i;
  });
}

}  // namespace
}  // namespace lichen
