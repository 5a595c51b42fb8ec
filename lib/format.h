// A freestanding, type-safe `{}` formatter: no allocation, no floating point, no exceptions.
//
//   Format(sink, "cpu {} ran {} tasks, vruntime {:#x}", cpu, n, v);
//   FormatTo(buf, sizeof(buf), "{:>8}|{:-<10}|{:08b}", name, tag, bits);
//
// Placeholders: `{}` or `{:SPEC}` with SPEC = [[fill]align]['#']['0'][width][type]
//   align  `<` left, `>` right, `^` centre (fill is any character but `{` and `}`)
//   `#`    alternate form: 0x / 0X / 0b / 0o prefix for integers
//   `0`    pad numbers with zeros after the sign and prefix (ignored when an align is given)
//   width  minimum field width in bytes, at most kMaxFormatWidth
//   type   integers: d x X b o; strings: s; pointers: p x X; Decimal: d; bool: s or an
//          integer letter; char: c or an integer letter (its byte value); user types: any letter
// `{{` and `}}` print a brace. Too few arguments print "{?}", a malformed placeholder or a type
// letter that does not apply to its argument prints "{!}" (and consumes its argument); extra
// arguments are ignored. Nothing here is undefined behaviour, whatever the format string.
//
// Argument types: every integer type, bool, char, C strings (nullptr prints "(null)"; char
// arrays stop at their first NUL or their end), std::string_view, pointers (hex with 0x),
// enums (their underlying value), lichen::Decimal, and user types that provide
//   void FormatValue(lichen::Sink&, const T&, const lichen::FormatSpec&);
// findable by argument-dependent lookup (it takes precedence over the built-in rules).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace lichen {

// Where formatted text goes. Implementations append `len` bytes; they may drop what does not
// fit. Non-owning: sinks are never deleted through this base, hence the protected destructor.
class Sink {
 public:
  // Appends data[0..len). Called once per literal run, padding chunk or formatted value.
  virtual void Write(const char* data, size_t len) = 0;

 protected:
  ~Sink() = default;
};

// Largest accepted width in a spec; a larger one is malformed (keeps padding loops bounded).
inline constexpr uint32_t kMaxFormatWidth = 1024;

// A parsed `{:...}` spec, handed to FormatValue hooks of user types.
struct FormatSpec {
  enum class Align : uint8_t { kDefault, kLeft, kRight, kCenter };

  char fill = ' ';                // padding character
  Align align = Align::kDefault;  // kDefault: numbers right, text left
  bool alternate = false;         // '#': radix prefix
  bool zero_pad = false;          // '0': zeros between sign/prefix and digits
  uint16_t width = 0;             // minimum field width in bytes
  char type = 0;                  // the type letter, or 0 when none was given
};

// A fixed-point number for a kernel without floating point: prints value / 10^decimals with
// exactly `decimals` digits after the point, e.g. {1234, 2} -> "12.34", {-5, 2} -> "-0.05".
struct Decimal {
  int64_t value;
  uint8_t decimals;
};

// Writes `text` padded to spec.width with spec.fill and spec.align (default: left). For user
// FormatValue hooks that render to a string.
void WritePadded(Sink& out, const FormatSpec& spec, std::string_view text);

// A sink over a caller-provided char array. Keeps the text NUL-terminated (when the array is
// not empty), silently truncates what does not fit and remembers that it did.
class BufferSink final : public Sink {
 public:
  // Over buf[0..cap); cap may be 0 (then nothing is ever stored).
  BufferSink(char* buf, size_t cap) : buf_(buf), cap_(cap) {
    if (cap_ > 0) buf_[0] = '\0';
  }
  // Over a whole char array.
  template <size_t N>
  explicit BufferSink(char (&buf)[N]) : BufferSink(buf, N) {}
  BufferSink(const BufferSink&) = delete;
  BufferSink& operator=(const BufferSink&) = delete;

  // Appends what fits, keeping the NUL; sets truncated() if anything was cut.
  void Write(const char* data, size_t len) override;

  // The text written so far (without the terminating NUL).
  std::string_view view() const { return std::string_view(cap_ > 0 ? buf_ : "", len_); }
  // The NUL-terminated text ("" when the array has no room at all).
  const char* c_str() const { return cap_ > 0 ? buf_ : ""; }
  // Bytes held, excluding the NUL.
  size_t size() const { return len_; }
  // Bytes the text may hold: the array's size minus the NUL.
  size_t capacity() const { return cap_ > 0 ? cap_ - 1 : 0; }
  // True once some write did not fit entirely.
  bool truncated() const { return truncated_; }
  // Forgets the text (and the truncation flag) so the buffer can be reused.
  void Clear();

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool truncated_ = false;
};

namespace internal {

// One type-erased argument: a small tagged value, so the formatting engine is one non-template
// function in format.cc instead of a copy per argument list.
struct FormatArg {
  enum class Kind : uint8_t {
    kSigned,
    kUnsigned,
    kBool,
    kChar,
    kString,
    kPointer,
    kDecimal,
    kCustom
  };
  using CustomFn = void (*)(Sink&, const void*, const FormatSpec&);

  Kind kind;
  union {
    int64_t s;
    uint64_t u;
    bool b;
    char c;
    struct {
      const char* data;
      size_t size;
    } str;
    uintptr_t ptr;
    Decimal dec;
    struct {
      const void* object;
      CustomFn fn;
    } custom;
  };
};

// True when a FormatValue hook for T is visible (by argument-dependent lookup).
template <typename T>
concept HasFormatValue = requires(Sink& sink, const T& value, const FormatSpec& spec) {
  FormatValue(sink, value, spec);
};

// Length of a NUL-terminated string, looking at no more than `max` bytes.
constexpr size_t BoundedLength(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0')
    ++n;
  return n;
}

// A false that depends on T, for a static_assert in a discarded `if constexpr` branch.
template <typename T>
inline constexpr bool kAlwaysFalse = false;

// Calls the user's FormatValue hook on the erased object.
template <typename T>
void CallFormatValue(Sink& out, const void* object, const FormatSpec& spec) {
  FormatValue(out, *static_cast<const T*>(object), spec);
}

// Builds the erased argument for `value`, choosing the rule described at the top of the file.
template <typename T>
FormatArg MakeFormatArg(const T& value) {
  using U = std::remove_cv_t<T>;
  FormatArg arg{};
  if constexpr (HasFormatValue<U>) {
    arg.kind = FormatArg::Kind::kCustom;
    arg.custom.object = &value;
    arg.custom.fn = &CallFormatValue<U>;
  } else if constexpr (std::is_same_v<U, bool>) {
    arg.kind = FormatArg::Kind::kBool;
    arg.b = value;
  } else if constexpr (std::is_same_v<U, char>) {
    arg.kind = FormatArg::Kind::kChar;
    arg.c = value;
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    arg.kind = FormatArg::Kind::kSigned;
    arg.s = static_cast<int64_t>(value);
  } else if constexpr (std::is_integral_v<U>) {
    arg.kind = FormatArg::Kind::kUnsigned;
    arg.u = static_cast<uint64_t>(value);
  } else if constexpr (std::is_enum_v<U>) {
    return MakeFormatArg(static_cast<std::underlying_type_t<U>>(value));
  } else if constexpr (std::is_same_v<U, std::string_view>) {
    arg.kind = FormatArg::Kind::kString;
    arg.str.data = value.data();
    arg.str.size = value.size();
  } else if constexpr (std::is_array_v<U> &&
                       std::is_same_v<std::remove_cv_t<std::remove_extent_t<U>>, char>) {
    arg.kind = FormatArg::Kind::kString;
    arg.str.data = value;
    // An array of unknown bound (`extern const char kName[];`) has extent 0: it is only a
    // NUL-terminated string, not an empty one.
    arg.str.size = BoundedLength(value, std::extent_v<U> != 0 ? std::extent_v<U> : ~size_t{0});
  } else if constexpr (std::is_pointer_v<U> &&
                       std::is_same_v<std::remove_cv_t<std::remove_pointer_t<U>>, char>) {
    arg.kind = FormatArg::Kind::kString;
    const char* s = value != nullptr ? value : "(null)";
    arg.str.data = s;
    arg.str.size = BoundedLength(s, ~size_t{0});
  } else if constexpr (std::is_pointer_v<U> || std::is_null_pointer_v<U>) {
    arg.kind = FormatArg::Kind::kPointer;
    if constexpr (std::is_null_pointer_v<U>) {
      arg.ptr = 0;
    } else {
      arg.ptr = reinterpret_cast<uintptr_t>(value);
    }
  } else if constexpr (std::is_same_v<U, Decimal>) {
    arg.kind = FormatArg::Kind::kDecimal;
    arg.dec = value;
  } else {
    static_assert(kAlwaysFalse<U>,
                  "lichen::Format: no rule for this type; define FormatValue(Sink&, const T&, "
                  "const FormatSpec&) next to it");
  }
  return arg;
}

// The engine: interprets `fmt` against `count` erased arguments.
void FormatErased(Sink& out, const char* fmt, const FormatArg* args, size_t count);

}  // namespace internal

// Formats `fmt` with `args` into `out`.
template <typename... Args>
void Format(Sink& out, const char* fmt, const Args&... args) {
  if constexpr (sizeof...(Args) == 0) {
    internal::FormatErased(out, fmt, nullptr, 0);
  } else {
    const internal::FormatArg erased[] = {internal::MakeFormatArg(args)...};
    internal::FormatErased(out, fmt, erased, sizeof...(Args));
  }
}

// Formats into buf[0..cap): truncates, always NUL-terminates when cap > 0, and returns the
// number of bytes written excluding the NUL.
template <typename... Args>
size_t FormatTo(char* buf, size_t cap, const char* fmt, const Args&... args) {
  BufferSink sink(buf, cap);
  Format(sink, fmt, args...);
  return sink.size();
}

}  // namespace lichen
