// BootStatus: how a bring-up step went, for the boot log.
//
// A BootStatus is either ok or carries a static message plus one number (an offset, an
// address, a register value) that makes the message precise. The messages are string
// literals, so a BootStatus can be created before the MMU is on, copied freely, and printed
// much later by the boot CPU. It is what parsing the device tree and the command line,
// building the page tables and starting the GIC, the timer, the watchdog and the secondary
// CPUs return, and its one consumer is a person: a failed step ends the boot with the message
// (FatalStatus, ExitCode::kBootError) or is printed and skipped. (An interrupt with no
// handler borrows it once, at run time, to print its fatal report the same way.)
//
// Not the core's error value: lib/result.h's Result<T> carries a value or an Error that code
// acts on (retry, fall back, report kNoMemory upwards), and has no room for a message. The
// two used to be "Status" and "Result", which read as two words for one idea; the name now
// says which one this is. Platform-private.
#pragma once

#include <cstdint>

namespace lichen::aarch64 {

class [[nodiscard("a BootStatus reports an error that must be handled")]] BootStatus {
 public:
  // Success.
  static constexpr BootStatus Ok() {
    return BootStatus(nullptr, 0);
  }
  // Failure with a static message and an optional detail value.
  static constexpr BootStatus Error(const char* message, uint64_t detail = 0) {
    return BootStatus(message, detail);
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
  constexpr BootStatus(const char* message, uint64_t detail) : message_(message), detail_(detail) {}

  const char* message_;
  uint64_t detail_;
};

// Returns from the enclosing function when `expr` (a BootStatus) is an error.
#define LICHEN_TRY_BOOT(expr)                              \
  do {                                                     \
    ::lichen::aarch64::BootStatus lichen_status_ = (expr); \
    if (!lichen_status_.ok()) return lichen_status_;       \
  } while (0)

}  // namespace lichen::aarch64
