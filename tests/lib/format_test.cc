// Unit tests of lib/format.h.
#include "lib/format.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lichen {
namespace {

// Formats into a std::string through a growing sink.
class StringSink final : public Sink {
 public:
  void Write(const char* data, size_t len) override {
    text.append(data, len);
    ++writes;
  }
  std::string text;
  int writes = 0;
};

template <typename... Args>
std::string F(const char* fmt, const Args&... args) {
  StringSink sink;
  Format(sink, fmt, args...);
  return sink.text;
}

// A user type with an ADL hook that honours width and fill through WritePadded.
struct Point {
  int x;
  int y;
};
void FormatValue(Sink& out, const Point& p, const FormatSpec& spec) {
  char buf[32];
  FormatTo(buf, sizeof(buf), "({}, {})", p.x, p.y);
  if (spec.type == 'v') {
    Format(out, "Point{}", std::string_view(buf));
    return;
  }
  WritePadded(out, spec, buf);
}

// An array of unknown bound, as `extern const char kVersion[];` declares one (defined below).
extern const char kUnknownBound[];

enum class Color : uint8_t { kRed = 1, kBlue = 7 };
enum Plain : int { kMinusOne = -1 };

enum class Named { kAlpha, kBeta };
void FormatValue(Sink& out, Named n, const FormatSpec& spec) {
  WritePadded(out, spec, n == Named::kAlpha ? "alpha" : "beta");
}

TEST(Format, LiteralsAndEscapes) {
  EXPECT_EQ(F(""), "");
  EXPECT_EQ(F("plain text"), "plain text");
  EXPECT_EQ(F("{{}}"), "{}");
  EXPECT_EQ(F("a{{b}}c {}", 1), "a{b}c 1");
  EXPECT_EQ(F("{{{}}}", 5), "{5}");
  EXPECT_EQ(F("lone } brace"), "lone } brace");
  EXPECT_EQ(F(nullptr), "(null)");
}

TEST(Format, SignedIntegersOfEveryWidth) {
  EXPECT_EQ(F("{}", int8_t{-128}), "-128");
  EXPECT_EQ(F("{}", int8_t{127}), "127");
  EXPECT_EQ(F("{}", int16_t{-32768}), "-32768");
  EXPECT_EQ(F("{}", int32_t{INT32_MIN}), "-2147483648");
  EXPECT_EQ(F("{}", int64_t{INT64_MIN}), "-9223372036854775808");
  EXPECT_EQ(F("{}", int64_t{INT64_MAX}), "9223372036854775807");
  EXPECT_EQ(F("{}", 0), "0");
  EXPECT_EQ(F("{}", -1L), "-1");
  EXPECT_EQ(F("{}", static_cast<signed char>(-5)), "-5");
  EXPECT_EQ(F("{}", static_cast<short>(300)), "300");
  EXPECT_EQ(F("{}", -7LL), "-7");
}

TEST(Format, UnsignedIntegersOfEveryWidth) {
  EXPECT_EQ(F("{}", uint8_t{255}), "255");
  EXPECT_EQ(F("{}", uint16_t{65535}), "65535");
  EXPECT_EQ(F("{}", uint32_t{UINT32_MAX}), "4294967295");
  EXPECT_EQ(F("{}", uint64_t{UINT64_MAX}), "18446744073709551615");
  EXPECT_EQ(F("{}", size_t{42}), "42");
  EXPECT_EQ(F("{}", 7ULL), "7");
  EXPECT_EQ(F("{}", static_cast<unsigned char>(200)), "200");
}

TEST(Format, Radixes) {
  EXPECT_EQ(F("{:x}", 255), "ff");
  EXPECT_EQ(F("{:X}", 255), "FF");
  EXPECT_EQ(F("{:#x}", 255), "0xff");
  EXPECT_EQ(F("{:#X}", 255), "0XFF");
  EXPECT_EQ(F("{:b}", 5), "101");
  EXPECT_EQ(F("{:#b}", 5), "0b101");
  EXPECT_EQ(F("{:o}", 8), "10");
  EXPECT_EQ(F("{:#o}", 8), "0o10");
  EXPECT_EQ(F("{:d}", 12), "12");
  EXPECT_EQ(F("{:#d}", 12), "12");
  EXPECT_EQ(F("{:x}", -255), "-ff");
  EXPECT_EQ(F("{:#x}", -255), "-0xff");
  EXPECT_EQ(F("{:#x}", 0), "0x0");
  EXPECT_EQ(F("{:x}", uint64_t{UINT64_MAX}), "ffffffffffffffff");
  EXPECT_EQ(F("{:x}", int64_t{INT64_MIN}), "-8000000000000000");
  EXPECT_EQ(F("{:b}", uint64_t{1} << 63),
            "1000000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(F("{:b}", int64_t{INT64_MIN}),
            "-1000000000000000000000000000000000000000000000000000000000000000");
}

TEST(Format, WidthFillAndAlign) {
  EXPECT_EQ(F("[{:5}]", 42), "[   42]");
  EXPECT_EQ(F("[{:<5}]", 42), "[42   ]");
  EXPECT_EQ(F("[{:>5}]", 42), "[   42]");
  EXPECT_EQ(F("[{:^5}]", 42), "[ 42  ]");
  EXPECT_EQ(F("[{:^6}]", 42), "[  42  ]");
  EXPECT_EQ(F("[{:5}]", "ab"), "[ab   ]");
  EXPECT_EQ(F("[{:>5}]", "ab"), "[   ab]");
  EXPECT_EQ(F("[{:-<10}]", "name"), "[name------]");
  EXPECT_EQ(F("[{:*^7}]", "x"), "[***x***]");
  EXPECT_EQ(F("[{:0>4}]", 7), "[0007]");
  EXPECT_EQ(F("[{:1}]", 12345), "[12345]");  // narrower than the text: no cut
  EXPECT_EQ(F("[{:>3}]", "abcdef"), "[abcdef]");
  EXPECT_EQ(F("[{::<4}]", 1), "[1:::]");  // ':' as fill
}

TEST(Format, ZeroPadding) {
  EXPECT_EQ(F("{:08x}", 0xbeef), "0000beef");
  EXPECT_EQ(F("{:#010x}", 0x1f), "0x0000001f");
  EXPECT_EQ(F("{:08}", -42), "-0000042");
  EXPECT_EQ(F("{:#010b}", 5), "0b00000101");
  EXPECT_EQ(F("{:03}", 12345), "12345");
  EXPECT_EQ(F("[{:<08}]", 42), "[42      ]");  // an explicit align overrides '0'
  EXPECT_EQ(F("{:08}", int64_t{INT64_MIN}), "-9223372036854775808");
}

TEST(Format, BoolAndChar) {
  EXPECT_EQ(F("{} {}", true, false), "true false");
  EXPECT_EQ(F("[{:>6}]", true), "[  true]");
  EXPECT_EQ(F("{:d}{:d}", true, false), "10");
  EXPECT_EQ(F("{:s}", false), "false");
  EXPECT_EQ(F("{}", 'a'), "a");
  EXPECT_EQ(F("[{:3}]", 'a'), "[a  ]");
  EXPECT_EQ(F("{:d} {:#x}", 'a', 'a'), "97 0x61");
  EXPECT_EQ(F("{:d}", static_cast<char>(-1)), "255");  // the byte value, on every target
  EXPECT_EQ(F("{:c}", 'z'), "z");
}

TEST(Format, Strings) {
  const char* c_string = "hello";
  char mutable_string[] = "mutable";
  const char* null_string = nullptr;
  char* null_mutable = nullptr;
  EXPECT_EQ(F("{}", c_string), "hello");
  EXPECT_EQ(F("{}", mutable_string), "mutable");
  EXPECT_EQ(F("{}", static_cast<char*>(mutable_string)), "mutable");
  EXPECT_EQ(F("{}", null_string), "(null)");
  EXPECT_EQ(F("{}", null_mutable), "(null)");
  EXPECT_EQ(F("{:s}", "lit"), "lit");
  const std::string_view view = std::string_view("abcdef").substr(1, 3);  // not NUL-terminated
  EXPECT_EQ(F("[{}]", view), "[bcd]");
  EXPECT_EQ(F("[{:>5}]", view), "[  bcd]");
  const char unterminated[3] = {'x', 'y', 'z'};
  EXPECT_EQ(F("[{}]", unterminated), "[xyz]");
  const char early_nul[8] = "ab";
  EXPECT_EQ(F("[{}]", early_nul), "[ab]");
  EXPECT_EQ(F("[{}]", std::string_view()), "[]");
  // Its extent is 0, which once made it print as an empty string (the kernel's version line).
  EXPECT_EQ(F("[{}]", kUnknownBound), "[0.1.0]");
}

const char kUnknownBound[] = "0.1.0";

TEST(Format, Pointers) {
  const void* p = reinterpret_cast<const void*>(uintptr_t{0x1234});
  int* typed = reinterpret_cast<int*>(uintptr_t{0xabc0});
  EXPECT_EQ(F("{}", p), "0x1234");
  EXPECT_EQ(F("{:p}", typed), "0xabc0");
  EXPECT_EQ(F("{:X}", typed), "0xABC0");
  EXPECT_EQ(F("{}", nullptr), "0x0");
  EXPECT_EQ(F("{}", static_cast<void*>(nullptr)), "0x0");
  EXPECT_EQ(F("{:018}", p), "0x0000000000001234");
  EXPECT_EQ(F("[{:>8}]", p), "[  0x1234]");
  void (*fn)() = nullptr;
  EXPECT_EQ(F("{}", fn), "0x0");
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(uintptr_t{0x10});
  EXPECT_EQ(F("{}", bytes), "0x10");  // only char pointers are strings
}

TEST(Format, Decimal) {
  EXPECT_EQ(F("{}", Decimal{1234, 2}), "12.34");
  EXPECT_EQ(F("{}", Decimal{-5, 2}), "-0.05");
  EXPECT_EQ(F("{}", Decimal{0, 2}), "0.00");
  EXPECT_EQ(F("{}", Decimal{5, 0}), "5");
  EXPECT_EQ(F("{}", Decimal{-5, 0}), "-5");
  EXPECT_EQ(F("{}", Decimal{-1, 1}), "-0.1");
  EXPECT_EQ(F("{}", Decimal{100, 2}), "1.00");
  EXPECT_EQ(F("{}", Decimal{123, 5}), "0.00123");
  EXPECT_EQ(F("{}", Decimal{123, 3}), "0.123");
  EXPECT_EQ(F("{}", Decimal{INT64_MIN, 3}), "-9223372036854775.808");
  EXPECT_EQ(F("{}", Decimal{INT64_MAX, 19}), "0.9223372036854775807");
  EXPECT_EQ(F("{}", Decimal{1, 25}), "0.0000000000000000000000001");
  EXPECT_EQ(F("[{:>8}]", Decimal{1234, 2}), "[   12.34]");
  EXPECT_EQ(F("[{:<8}]", Decimal{1234, 2}), "[12.34   ]");
  EXPECT_EQ(F("{:08}", Decimal{-1234, 2}), "-0012.34");
  EXPECT_EQ(F("{:d}", Decimal{7, 1}), "0.7");
}

TEST(Format, EnumsAndUserTypes) {
  EXPECT_EQ(F("{} {}", Color::kRed, Color::kBlue), "1 7");
  EXPECT_EQ(F("{:#x}", Color::kBlue), "0x7");
  EXPECT_EQ(F("{}", kMinusOne), "-1");
  EXPECT_EQ(F("{} {}", Named::kAlpha, Named::kBeta), "alpha beta");  // hook beats the enum rule
  EXPECT_EQ(F("{}", Point{1, -2}), "(1, -2)");
  EXPECT_EQ(F("[{:>10}]", Point{3, 4}), "[    (3, 4)]");
  EXPECT_EQ(F("{:v}", Point{3, 4}), "Point(3, 4)");  // user types may define their own letters
}

TEST(Format, MissingExtraAndMalformed) {
  EXPECT_EQ(F("{} {}", 1), "1 {?}");
  EXPECT_EQ(F("{}"), "{?}");
  EXPECT_EQ(F("{:x}"), "{?}");
  EXPECT_EQ(F("{}", 1, 2, 3), "1");
  EXPECT_EQ(F("no placeholders", 1), "no placeholders");
  // A malformed placeholder prints {!} and consumes its argument.
  EXPECT_EQ(F("{0} {}", 1, 2), "{!} 2");
  EXPECT_EQ(F("{x}", 1), "{!}");
  EXPECT_EQ(F("{:q}", 1), "{!}");
  EXPECT_EQ(F("{:x}", "str"), "{!}");
  EXPECT_EQ(F("{:#}", "str"), "{!}");
  EXPECT_EQ(F("{:05}", "str"), "{!}");
  EXPECT_EQ(F("{:#}", Decimal{1, 1}), "{!}");
  EXPECT_EQ(F("{:x}", Decimal{1, 1}), "{!}");
  EXPECT_EQ(F("{:b}", static_cast<void*>(nullptr)), "{!}");
  EXPECT_EQ(F("{:s}", 'c'), "{!}");
  EXPECT_EQ(F("{:99999}", 1), "{!}");
  EXPECT_EQ(F("{:1025}", 1), "{!}");
  EXPECT_EQ(F("{:xx}", 1), "{!}");
  EXPECT_EQ(F("{:{<5}", 1), "{!}");
  EXPECT_EQ(F("{:}<5}", 1), "1<5}");  // "{:}" is a complete placeholder
  EXPECT_EQ(F("tail {", 1), "tail {!}");
  EXPECT_EQ(F("tail {:", 1), "tail {!}");
  EXPECT_EQ(F("tail {:>8", 1), "tail {!}");
  EXPECT_EQ(F("{:<}", 1), "1");  // an align with no width is fine
  EXPECT_EQ(F("{:}", 1), "1");
  EXPECT_EQ(F("{:", 1), "{!}");
  EXPECT_EQ(F("{:{}} after", 1), "{!}} after");
}

TEST(Format, LargeWidthIsPaddedInChunks) {
  StringSink sink;
  Format(sink, "{:1024}", 1);
  EXPECT_EQ(sink.text.size(), 1024u);
  EXPECT_EQ(sink.text.back(), '1');
  EXPECT_LT(sink.writes, 40);
}

TEST(FormatTo, TruncatesAndTerminates) {
  char buf[8];
  EXPECT_EQ(FormatTo(buf, sizeof(buf), "{}", 1234), 4u);
  EXPECT_STREQ(buf, "1234");
  EXPECT_EQ(FormatTo(buf, sizeof(buf), "{}-{}", 123456, 789), 7u);
  EXPECT_STREQ(buf, "123456-");
  EXPECT_EQ(FormatTo(buf, 1, "abc"), 0u);
  EXPECT_STREQ(buf, "");
  EXPECT_EQ(FormatTo(nullptr, 0, "abc"), 0u);
  char guard[4] = {'x', 'x', 'x', 'x'};
  EXPECT_EQ(FormatTo(guard, 3, "{:>10}", 5), 2u);
  EXPECT_EQ(std::string(guard, 4), std::string("  \0x", 4));
}

TEST(BufferSink, TracksLengthAndTruncation) {
  char buf[6];
  BufferSink sink(buf);
  EXPECT_EQ(sink.capacity(), 5u);
  EXPECT_EQ(sink.view(), "");
  EXPECT_STREQ(sink.c_str(), "");
  sink.Write("abc", 3);
  EXPECT_EQ(sink.view(), "abc");
  EXPECT_FALSE(sink.truncated());
  sink.Write("defg", 4);
  EXPECT_EQ(sink.view(), "abcde");
  EXPECT_STREQ(sink.c_str(), "abcde");
  EXPECT_EQ(sink.size(), 5u);
  EXPECT_TRUE(sink.truncated());
  sink.Clear();
  EXPECT_EQ(sink.view(), "");
  EXPECT_FALSE(sink.truncated());
  Format(sink, "{}", 42);
  EXPECT_EQ(sink.view(), "42");
}

TEST(BufferSink, ZeroCapacity) {
  BufferSink sink(nullptr, 0);
  sink.Write("a", 1);
  EXPECT_EQ(sink.size(), 0u);
  EXPECT_TRUE(sink.truncated());
  EXPECT_EQ(sink.view(), "");
  EXPECT_STREQ(sink.c_str(), "");
}

}  // namespace
}  // namespace lichen
