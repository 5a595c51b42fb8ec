// Errors as values: Result<T> holds either a T or an Error.
//
//   Result<Page*> AllocPage();
//   Result<void> MapPage(uintptr_t va) {
//     Page* page = LICHEN_TRY(AllocPage());   // returns the error from MapPage on failure
//     ...
//     return {};                                // success of a Result<void>
//   }
//
// `return value;` and `return Error::kBusy;` both convert implicitly. The class is
// [[nodiscard]]: dropping a Result on the floor is a compile error under -Werror.
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "lib/assert.h"
#include "lib/format.h"

namespace lichen {

enum class Error : uint8_t {
  kNoMemory,         // an allocation failed
  kInvalidArgument,  // the caller passed something the callee cannot accept
  kNotFound,         // the thing looked up does not exist
  kBusy,             // the resource is in use; retrying later may succeed
  kFull,             // a bounded container has no room
  kEmpty,            // a container has nothing to give
  kBadState,         // the object is not in a state that allows the operation
  kMalformed,        // input data does not parse (device tree, ELF, message)
  kUnsupported,      // valid but not implemented by this kernel or machine
  kTimedOut,         // a wait ended by its deadline
  kOverflow,         // an arithmetic or size limit was exceeded
};

// The error's name without the k, e.g. "NoMemory"; "Unknown" for an out-of-range value.
constexpr const char* ErrorName(Error error) {
  switch (error) {
    case Error::kNoMemory:
      return "NoMemory";
    case Error::kInvalidArgument:
      return "InvalidArgument";
    case Error::kNotFound:
      return "NotFound";
    case Error::kBusy:
      return "Busy";
    case Error::kFull:
      return "Full";
    case Error::kEmpty:
      return "Empty";
    case Error::kBadState:
      return "BadState";
    case Error::kMalformed:
      return "Malformed";
    case Error::kUnsupported:
      return "Unsupported";
    case Error::kTimedOut:
      return "TimedOut";
    case Error::kOverflow:
      return "Overflow";
  }
  return "Unknown";
}

// Lets Format print an Error by name: Format(out, "{}", Error::kBusy) -> "Busy".
inline void FormatValue(Sink& out, Error error, const FormatSpec& spec) {
  WritePadded(out, spec, ErrorName(error));
}

template <typename T>
class Result;

namespace internal {

// What Result<T> accepts as a success value: anything T can be constructed from, except the
// things that mean something else (another Result, an Error, the in-place tag).
template <typename T, typename U>
concept ResultValueSource =
    std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Result<T>> &&
    !std::is_same_v<std::remove_cvref_t<U>, Error> &&
    !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t>;

}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use Result<T*>");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");
  static_assert(std::is_destructible_v<T>);

 public:
  using ValueType = T;

  // Success, from anything T can be constructed from (implicit when the conversion is).
  template <typename U = T>
  requires internal::ResultValueSource<T, U>
  explicit(!std::is_convertible_v<U&&, T>) Result(U&& value) : ok_(true) {
    new (&value_) T(std::forward<U>(value));
  }
  // Success, constructing T in place from `args`.
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args) : ok_(true) {
    new (&value_) T(std::forward<Args>(args)...);
  }
  // Failure.
  Result(Error error) : error_(error), ok_(false) {}

  // Copies and moves carry the value or the error over; they exist when T's do.
  Result(const Result& other) requires std::is_copy_constructible_v<T> : ok_(other.ok_) {
    ConstructFrom(other);
  }
  Result(Result&& other) noexcept(
      std::is_nothrow_move_constructible_v<T>) requires std::is_move_constructible_v<T>
      : ok_(other.ok_) {
    ConstructFrom(std::move(other));
  }
  Result& operator=(const Result& other) requires std::is_copy_constructible_v<T> {
    if (this != &other) {
      Destroy();
      ok_ = other.ok_;
      ConstructFrom(other);
    }
    return *this;
  }
  Result& operator=(Result&& other) noexcept(
      std::is_nothrow_move_constructible_v<T>) requires std::is_move_constructible_v<T> {
    if (this != &other) {
      Destroy();
      ok_ = other.ok_;
      ConstructFrom(std::move(other));
    }
    return *this;
  }
  ~Result() { Destroy(); }

  // True when a value is held.
  bool ok() const { return ok_; }

  // The value; asserts ok().
  T& value() & {
    CheckOk();
    return value_;
  }
  const T& value() const& {
    CheckOk();
    return value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(value_);
  }

  // The error; asserts !ok().
  Error error() const {
    LICHEN_ASSERT(!ok_, "Result::error() on a value");
    return error_;
  }

  // The value if ok(), else `fallback`.
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename U>
  T value_or(U&& fallback) && {
    return ok_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckOk() const { LICHEN_ASSERT(ok_, "Result::value() on error {}", ErrorName(error_)); }
  void Destroy() {
    if (ok_) value_.~T();
  }
  // Fills the union from `other` (a const& or &&), ok_ having been copied already.
  template <typename Other>
  void ConstructFrom(Other&& other) {
    if (ok_) {
      new (&value_) T(std::forward<Other>(other).value_);
    } else {
      error_ = other.error_;
    }
  }

  union {
    T value_;
    Error error_;
  };
  bool ok_;
};

// Success or an Error, with no value. `return {};` is success.
template <>
class [[nodiscard]] Result<void> {
 public:
  using ValueType = void;

  // Success (so `return {};` succeeds).
  Result() : error_(Error::kNoMemory), ok_(true) {}
  // Failure.
  Result(Error error) : error_(error), ok_(false) {}

  // True on success.
  bool ok() const { return ok_; }
  // Asserts ok(); exists so that generic code (LICHEN_TRY) treats both kinds alike.
  void value() const { LICHEN_ASSERT(ok_, "Result::value() on error {}", ErrorName(error_)); }
  Error error() const {
    LICHEN_ASSERT(!ok_, "Result::error() on a success");
    return error_;
  }

 private:
  Error error_;  // meaningful only when !ok_
  bool ok_;
};

}  // namespace lichen

#define LICHEN_TRY_CONCAT_INNER(a, b) a##b
#define LICHEN_TRY_CONCAT(a, b) LICHEN_TRY_CONCAT_INNER(a, b)

// Evaluates `expr` (a Result). On error, returns that error from the enclosing function (whose
// return type must be constructible from Error: a Result<U> or Error). Otherwise evaluates to
// the value: moved out of a temporary Result, copied from a named one; void for Result<void>.
// A GNU statement expression (clang and GCC); the unique name keeps nested uses from
// shadowing each other.
#define LICHEN_TRY(expr) LICHEN_TRY_IMPL(expr, LICHEN_TRY_CONCAT(lichen_try_result_, __COUNTER__))
#define LICHEN_TRY_IMPL(expr, name)             \
  ({                                            \
    auto&& name = (expr);                       \
    if (!name.ok()) return name.error();        \
    std::forward<decltype(name)>(name).value(); \
  })
