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
                                           "ff"};
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
  });
}

}  // namespace
}  // namespace lichen
