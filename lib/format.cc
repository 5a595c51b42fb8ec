#include "lib/format.h"

namespace lichen {

namespace {

using internal::FormatArg;
using Align = FormatSpec::Align;
// "..."sv literals carry their length: no strlen call at run time in a freestanding build.
using namespace std::string_view_literals;

constexpr std::string_view kMissingArgument = "{?}";
constexpr std::string_view kMalformed = "{!}";

void Put(Sink& out, std::string_view text) {
  if (!text.empty()) out.Write(text.data(), text.size());
}

// Writes `count` copies of `c`, in chunks so that a wide field costs few Write calls.
void PutRepeated(Sink& out, char c, size_t count) {
  char chunk[32];
  for (char& slot : chunk)
    slot = c;
  while (count > 0) {
    const size_t n = count < sizeof(chunk) ? count : sizeof(chunk);
    out.Write(chunk, n);
    count -= n;
  }
}

// Writes one field: `prefix` (sign, radix prefix), then a body of `body_len` bytes produced by
// `write_body`, padded to spec.width. With `numeric` and the '0' flag and no explicit align,
// zeros go between the prefix and the body; otherwise the fill goes around both.
template <typename BodyWriter>
void PutField(Sink& out, const FormatSpec& spec, bool numeric, std::string_view prefix,
              size_t body_len, BodyWriter write_body) {
  const size_t len = prefix.size() + body_len;
  const size_t pad = spec.width > len ? spec.width - len : 0;
  if (numeric && spec.zero_pad && spec.align == Align::kDefault) {
    Put(out, prefix);
    PutRepeated(out, '0', pad);
    write_body();
    return;
  }
  Align align = spec.align;
  if (align == Align::kDefault) align = numeric ? Align::kRight : Align::kLeft;
  size_t before = 0;
  if (align == Align::kRight) before = pad;
  if (align == Align::kCenter) before = pad / 2;
  PutRepeated(out, spec.fill, before);
  Put(out, prefix);
  write_body();
  PutRepeated(out, spec.fill, pad - before);
}

void PutText(Sink& out, const FormatSpec& spec, std::string_view text) {
  PutField(out, spec, /*numeric=*/false, {}, text.size(), [&] { Put(out, text); });
}

// Renders `magnitude` in `base` into the end of `buf`; returns the first digit's index.
size_t RenderDigits(char (&buf)[64], uint64_t magnitude, unsigned base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  size_t pos = sizeof(buf);
  do {
    buf[--pos] = digits[magnitude % base];
    magnitude /= base;
  } while (magnitude != 0);
  return pos;
}

// Integers (and bools/chars printed as numbers). Returns false when the type letter does not
// apply to an integer.
bool PutInteger(Sink& out, const FormatSpec& spec, bool negative, uint64_t magnitude) {
  unsigned base = 10;
  std::string_view radix_prefix;
  switch (spec.type) {
    case 0:
    case 'd':
      break;
    case 'x':
      base = 16;
      radix_prefix = "0x"sv;
      break;
    case 'X':
      base = 16;
      radix_prefix = "0X"sv;
      break;
    case 'b':
      base = 2;
      radix_prefix = "0b"sv;
      break;
    case 'o':
      base = 8;
      radix_prefix = "0o"sv;
      break;
    default:
      return false;
  }
  char prefix[3];
  size_t prefix_len = 0;
  if (negative) prefix[prefix_len++] = '-';
  if (spec.alternate) {
    for (char c : radix_prefix)
      prefix[prefix_len++] = c;
  }
  char digits[64];
  const size_t first = RenderDigits(digits, magnitude, base, spec.type == 'X');
  const std::string_view body(digits + first, sizeof(digits) - first);
  PutField(out, spec, /*numeric=*/true, std::string_view(prefix, prefix_len), body.size(),
           [&] { Put(out, body); });
  return true;
}

bool PutSigned(Sink& out, const FormatSpec& spec, int64_t value) {
  // Negate in unsigned arithmetic so INT64_MIN has a magnitude too.
  const uint64_t magnitude =
      value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  return PutInteger(out, spec, value < 0, magnitude);
}

// Text-like values accept no type letter but their own, and neither '#' nor '0'.
bool TextSpecOk(const FormatSpec& spec, char own_type) {
  return (spec.type == 0 || spec.type == own_type) && !spec.alternate && !spec.zero_pad;
}

bool PutPointer(Sink& out, const FormatSpec& spec, uintptr_t address) {
  if (spec.type != 0 && spec.type != 'p' && spec.type != 'x' && spec.type != 'X') return false;
  char digits[64];
  const size_t first = RenderDigits(digits, address, 16, spec.type == 'X');
  const std::string_view body(digits + first, sizeof(digits) - first);
  PutField(out, spec, /*numeric=*/true, "0x"sv, body.size(), [&] { Put(out, body); });
  return true;
}

bool PutDecimal(Sink& out, const FormatSpec& spec, Decimal value) {
  if ((spec.type != 0 && spec.type != 'd') || spec.alternate) return false;
  const bool negative = value.value < 0;
  const uint64_t magnitude = negative ? uint64_t{0} - static_cast<uint64_t>(value.value)
                                      : static_cast<uint64_t>(value.value);
  char digits[64];
  const size_t first = RenderDigits(digits, magnitude, 10, false);
  const char* all = digits + first;
  const size_t count = sizeof(digits) - first;
  const size_t decimals = value.decimals;
  // Digits left of the point ("0" when the magnitude is below 1), zeros right after the point
  // when the value has fewer digits than `decimals`, and the remaining digits. (Pointer
  // arithmetic rather than string_view::substr, whose range check drags in a throwing helper.)
  const std::string_view integer =
      count > decimals ? std::string_view(all, count - decimals) : "0"sv;
  const size_t leading_zeros = count < decimals ? decimals - count : 0;
  const std::string_view fraction = count > decimals
                                        ? std::string_view(all + count - decimals, decimals)
                                        : std::string_view(all, count);
  const size_t body_len = integer.size() + (decimals > 0 ? 1 + decimals : 0);
  const std::string_view sign = negative ? "-"sv : ""sv;
  PutField(out, spec, /*numeric=*/true, sign, body_len, [&] {
    Put(out, integer);
    if (decimals == 0) return;
    Put(out, "."sv);
    PutRepeated(out, '0', leading_zeros);
    Put(out, fraction);
  });
  return true;
}

// Formats one argument; returns false (having written nothing) when the spec does not apply.
bool PutArgument(Sink& out, const FormatArg& arg, const FormatSpec& spec) {
  switch (arg.kind) {
    case FormatArg::Kind::kSigned:
      return PutSigned(out, spec, arg.s);
    case FormatArg::Kind::kUnsigned:
      return PutInteger(out, spec, false, arg.u);
    case FormatArg::Kind::kBool:
      if (spec.type == 0 || spec.type == 's') {
        if (!TextSpecOk(spec, 's')) return false;
        PutText(out, spec, arg.b ? "true"sv : "false"sv);
        return true;
      }
      return PutInteger(out, spec, false, arg.b ? 1 : 0);
    case FormatArg::Kind::kChar:
      if (spec.type == 0 || spec.type == 'c') {
        if (!TextSpecOk(spec, 'c')) return false;
        PutText(out, spec, std::string_view(&arg.c, 1));
        return true;
      }
      // As a number, a char is its byte value: the same on targets with signed and unsigned char.
      return PutInteger(out, spec, false, static_cast<unsigned char>(arg.c));
    case FormatArg::Kind::kString:
      if (!TextSpecOk(spec, 's')) return false;
      PutText(out, spec, std::string_view(arg.str.data, arg.str.size));
      return true;
    case FormatArg::Kind::kPointer:
      return PutPointer(out, spec, arg.ptr);
    case FormatArg::Kind::kDecimal:
      return PutDecimal(out, spec, arg.dec);
    case FormatArg::Kind::kCustom:
      arg.custom.fn(out, arg.custom.object, spec);
      return true;
  }
  return false;
}

bool IsAlign(char c) {
  return c == '<' || c == '>' || c == '^';
}

Align ToAlign(char c) {
  if (c == '<') return Align::kLeft;
  if (c == '>') return Align::kRight;
  return Align::kCenter;
}

bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Parses a placeholder; `p` points just past its '{'. On success fills `spec`, moves `p` past
// the closing '}' and returns true. On failure returns false with `p` somewhere inside.
bool ParseSpec(const char*& p, FormatSpec& spec) {
  if (*p == '}') {
    ++p;
    return true;
  }
  if (*p != ':') return false;
  ++p;
  if (p[0] != '\0' && p[0] != '{' && p[0] != '}' && IsAlign(p[1])) {
    spec.fill = p[0];
    spec.align = ToAlign(p[1]);
    p += 2;
  } else if (IsAlign(p[0])) {
    spec.align = ToAlign(p[0]);
    ++p;
  }
  if (*p == '#') {
    spec.alternate = true;
    ++p;
  }
  if (*p == '0') {
    spec.zero_pad = true;
    ++p;
  }
  uint32_t width = 0;
  while (*p >= '0' && *p <= '9') {
    width = width * 10 + static_cast<uint32_t>(*p - '0');
    if (width > kMaxFormatWidth) return false;
    ++p;
  }
  spec.width = static_cast<uint16_t>(width);
  if (IsLetter(*p)) {
    spec.type = *p;
    ++p;
  }
  if (*p != '}') return false;
  ++p;
  return true;
}

}  // namespace

void WritePadded(Sink& out, const FormatSpec& spec, std::string_view text) {
  PutText(out, spec, text);
}

void BufferSink::Write(const char* data, size_t len) {
  if (cap_ == 0) {
    if (len > 0) truncated_ = true;
    return;
  }
  const size_t room = cap_ - 1 - len_;
  size_t n = len;
  if (n > room) {
    n = room;
    truncated_ = true;
  }
  if (n > 0) __builtin_memcpy(buf_ + len_, data, n);
  len_ += n;
  buf_[len_] = '\0';
}

void BufferSink::Clear() {
  len_ = 0;
  truncated_ = false;
  if (cap_ > 0) buf_[0] = '\0';
}

namespace internal {

void FormatErased(Sink& out, const char* fmt, const FormatArg* args, size_t count) {
  if (fmt == nullptr) {
    Put(out, "(null)"sv);
    return;
  }
  size_t next_arg = 0;
  const char* literal = fmt;  // start of the pending run of literal text
  const char* p = fmt;
  auto flush_literal = [&](const char* end) {
    Put(out, std::string_view(literal, static_cast<size_t>(end - literal)));
  };
  while (*p != '\0') {
    if (*p == '}') {
      // "}}" is an escaped brace; a lone '}' is printed as it is.
      flush_literal(p + 1);
      p += p[1] == '}' ? 2 : 1;
      literal = p;
      continue;
    }
    if (*p != '{') {
      ++p;
      continue;
    }
    if (p[1] == '{') {
      flush_literal(p + 1);
      p += 2;
      literal = p;
      continue;
    }
    flush_literal(p);
    ++p;
    FormatSpec spec;
    if (!ParseSpec(p, spec)) {
      Put(out, kMalformed);
      ++next_arg;
      while (*p != '\0' && *p != '}')
        ++p;
      if (*p == '}') ++p;
    } else if (next_arg >= count) {
      Put(out, kMissingArgument);
    } else if (!PutArgument(out, args[next_arg++], spec)) {
      Put(out, kMalformed);
    }
    literal = p;
  }
  flush_literal(p);
}

}  // namespace internal

}  // namespace lichen
