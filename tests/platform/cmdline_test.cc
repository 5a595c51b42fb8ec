// Host tests of the kernel command line helpers (platform/aarch64/cmdline.cc): unit cases, and
// a seeded property test against a reference model built from std::string and
// std::from_chars.
#include "platform/aarch64/cmdline.h"

#include <gtest/gtest.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/random.h"
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

// The reference: split with an explicit loop over std::string, compare the whole word before
// '=' to the key; numbers through std::from_chars, which must consume the whole text.
std::optional<std::string> RefOption(const std::string& cmdline, const std::string& key) {
  std::optional<std::string> found;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) {
      const size_t eq = word.find('=');
      if (word.substr(0, eq) == key) found = eq == std::string::npos ? "" : word.substr(eq + 1);
    }
    word.clear();
  };
  for (char c : cmdline) {
    if (std::string(" \t\n\r\v\f").find(c) != std::string::npos) {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return found;
}

std::optional<uint64_t> RefUint(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

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
      const auto want = RefOption(cmdline, key);
      ASSERT_EQ(got.has_value(), want.has_value()) << '"' << cmdline << "\" key " << key;
      if (got) {
        ASSERT_EQ(std::string(*got), *want) << '"' << cmdline << "\" key " << key;
        ASSERT_EQ(ParseUint(*got), RefUint(*want)) << '"' << *want << '"';
      }
    }
    ASSERT_EQ(ParseUint(cmdline), RefUint(cmdline)) << '"' << cmdline << '"';
  });
}

}  // namespace
}  // namespace lichen
