// Status: the platform's error value (no exceptions in the kernel).
//
// A Status is either ok or carries a static message plus one number (an offset, an address,
// a register value) that makes the message precise. The messages are string literals, so a
// Status can be created before the MMU is on, copied freely, and printed much later by the
// boot CPU. Platform-private: the core's errors are lib/result.h's Result<T>/Error; one error
// type for both is the architecture pass's work (issue "one vocabulary").
#pragma once

#include <cstdint>

namespace lichen::aarch64 {

class [[nodiscard("a Status reports an error that must be handled")]] Status {
 public:
  // Success.
  static constexpr Status Ok() {
    return Status(nullptr, 0);
  }
  // Failure with a static message and an optional detail value.
  static constexpr Status Error(const char* message, uint64_t detail = 0) {
    return Status(message, detail);
  }

  constexpr bool ok() const {
    return message_ == nullptr;
  }
  // The error message ("ok" for success).
  constexpr const char* message() const {
    return message_ != nullptr ? message_ : "ok";
  }
  // The detail value given with the error (0 if none).
  constexpr uint64_t detail() const {
    return detail_;
  }

 private:
  constexpr Status(const char* message, uint64_t detail) : message_(message), detail_(detail) {}

  const char* message_;
  uint64_t detail_;
};

// Returns from the enclosing function when `expr` (a Status) is an error.
#define LICHEN_TRY_STATUS(expr)                        \
  do {                                                 \
    ::lichen::aarch64::Status lichen_status_ = (expr); \
    if (!lichen_status_.ok()) return lichen_status_;   \
  } while (0)

}  // namespace lichen::aarch64
