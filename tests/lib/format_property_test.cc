// Property test of lib/format.h against the C library's snprintf: random integers of every
// width and sign, in every radix, with random width, fill, alignment, zero padding and the
// 0x prefix, formatted by both and compared.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#include "lib/format.h"
#include "lib/random.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

std::string Lichen(const std::string& fmt, auto value) {
  char buf[256];
  FormatTo(buf, sizeof(buf), fmt.c_str(), value);
  return buf;
}

// Pads `body` to `width` with `fill`, aligned like the {} mini-language.
std::string Pad(const std::string& body, size_t width, char fill, char align) {
  if (body.size() >= width) return body;
  const size_t pad = width - body.size();
  if (align == '<') return body + std::string(pad, fill);
  if (align == '^') return std::string(pad / 2, fill) + body + std::string(pad - pad / 2, fill);
  return std::string(pad, fill) + body;
}

// The reference: the digits from snprintf, the padding rules of the {} mini-language.
std::string Reference(int64_t value, bool is_signed, char radix, bool prefix, size_t width,
                      char fill, char align, bool zero_pad) {
  char digits[80];
  const uint64_t u = static_cast<uint64_t>(value);
  const bool negative = is_signed && value < 0;
  const uint64_t magnitude = negative ? 0 - u : u;
  switch (radix) {
    case 'x':
      std::snprintf(digits, sizeof(digits), "%" PRIx64, magnitude);
      break;
    case 'X':
      std::snprintf(digits, sizeof(digits), "%" PRIX64, magnitude);
      break;
    case 'b': {
      std::string bits;
      uint64_t m = magnitude;
      do {
        bits.insert(bits.begin(), static_cast<char>('0' + (m & 1)));
        m >>= 1;
      } while (m != 0);
      std::snprintf(digits, sizeof(digits), "%s", bits.c_str());
      break;
    }
    default:
      std::snprintf(digits, sizeof(digits), "%" PRIu64, magnitude);
      break;
  }
  std::string sign = negative ? "-" : "";
  std::string pre = prefix ? (radix == 'b' ? "0b" : (radix == 'X' ? "0X" : "0x")) : "";
  std::string body = digits;
  if (zero_pad) {
    const size_t used = sign.size() + pre.size() + body.size();
    if (used < width) body = std::string(width - used, '0') + body;
    return sign + pre + body;
  }
  return Pad(sign + pre + body, width, fill, align);
}

TEST(FormatProperty, IntegersMatchSnprintf) {
  test::ForEachSeed("format-vs-snprintf", 100, [](uint64_t seed) {
    Rng rng(seed);
    for (int i = 0; i < 2000 && !::testing::Test::HasFailure(); ++i) {
      // A value of a random magnitude (so small and huge numbers both come up), random sign.
      const uint32_t bits = static_cast<uint32_t>(rng.Range(0, 64));
      uint64_t raw = bits == 64 ? rng.Next() : (rng.Next() & ((uint64_t{1} << bits) - 1));
      const bool is_signed = rng.Chance(1, 2);
      const char radixes[] = {'d', 'x', 'X', 'b'};
      const char radix = radixes[rng.Below(4)];
      const bool prefix = radix != 'd' && rng.Chance(1, 3);
      const size_t width = rng.Chance(1, 3) ? 0 : static_cast<size_t>(rng.Range(1, 40));
      const bool zero_pad = width != 0 && rng.Chance(1, 4);
      const char fills[] = {' ', '*', '-', '.'};
      const char fill = fills[rng.Below(4)];
      const char aligns[] = {'<', '>', '^', 0};
      const char align = zero_pad ? 0 : aligns[rng.Below(4)];
      std::string spec = "{:";
      if (align != 0) {
        if (fill != ' ') spec += fill;
        spec += align;
      }
      if (prefix) spec += '#';
      if (zero_pad) spec += '0';
      if (width != 0) spec += std::to_string(width);
      if (radix != 'd') spec += radix;
      spec += "}";
      const char effective_align = align != 0 ? align : '>';
      const char effective_fill = align != 0 ? fill : ' ';
      std::string got;
      std::string want;
      if (is_signed) {
        const auto value = static_cast<int64_t>(raw);
        got = Lichen(spec, value);
        want =
            Reference(value, true, radix, prefix, width, effective_fill, effective_align, zero_pad);
      } else {
        got = Lichen(spec, raw);
        want = Reference(static_cast<int64_t>(raw), false, radix, prefix, width, effective_fill,
                         effective_align, zero_pad);
      }
      ASSERT_EQ(got, want) << "spec " << spec << " value " << raw << (is_signed ? " (signed)" : "");
    }
  });
}

}  // namespace
}  // namespace lichen
