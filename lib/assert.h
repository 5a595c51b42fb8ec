// Assertions and panics for the freestanding core.
//
//   LICHEN_ASSERT(cond);                         always checked
//   LICHEN_ASSERT(cond, "fmt {}", args...);      with a message formatted by lib/format.h
//   LICHEN_DEBUG_ASSERT(cond[, fmt, args...]);   checked only when LICHEN_DEBUG_CHECKS is
//                                                defined; otherwise not evaluated, but still
//                                                type-checked so it cannot rot
//   LICHEN_PANIC("fmt {}", args...);             unconditional
//
// A failure formats one message into a fixed stack buffer (truncating; no allocation) and
// calls PanicAt(file, line, message), which hands it to the handler the platform installed
// (the aarch64 kernel prints it and powers off; the simulator records it and switches away
// from the failing virtual CPU). If no handler is installed, or the handler returns, the CPU
// executes a trap instruction.
#pragma once

#include <cstddef>

#include "lib/format.h"

namespace lichen {

// Receives every panic. Must not return to be useful (returning means __builtin_trap()).
using PanicHandler = void (*)(const char* file, int line, const char* message);

// Installs `handler` for every CPU (nullptr uninstalls). The platform calls this at boot.
void SetPanicHandler(PanicHandler handler);

// Reports a fatal error at file:line with a ready message. Never returns.
[[noreturn]] void PanicAt(const char* file, int line, const char* message);

// Size of the stack buffer a panic message is formatted into (longer ones are truncated).
inline constexpr size_t kPanicMessageMax = 256;

namespace internal {

// Slow paths of the macros, kept out of line (noinline, cold) so a check costs its caller
// one compare and branch.
[[noreturn, gnu::cold, gnu::noinline]] void AssertFailed(const char* file, int line,
                                                         const char* condition);

template <typename... Args>
[[noreturn, gnu::cold, gnu::noinline]] void AssertFailed(const char* file, int line,
                                                         const char* condition, const char* fmt,
                                                         const Args&... args) {
  char buf[kPanicMessageMax];
  BufferSink sink(buf);
  Format(sink, "assertion failed: {}: ", condition);
  Format(sink, fmt, args...);
  PanicAt(file, line, sink.c_str());
}

template <typename... Args>
[[noreturn, gnu::cold, gnu::noinline]] void PanicFormatted(const char* file, int line,
                                                           const char* fmt, const Args&... args) {
  char buf[kPanicMessageMax];
  BufferSink sink(buf);
  Format(sink, fmt, args...);
  PanicAt(file, line, sink.c_str());
}

}  // namespace internal

}  // namespace lichen

// Checks `cond` in every build; on failure panics with the condition's text and, when given,
// a formatted message.
#define LICHEN_ASSERT(cond, ...)                                                              \
  do {                                                                                        \
    if (__builtin_expect(!(cond), 0)) {                                                       \
      ::lichen::internal::AssertFailed(__FILE__, __LINE__, #cond __VA_OPT__(, ) __VA_ARGS__); \
    }                                                                                         \
  } while (0)

// Panics unconditionally with a formatted message.
#define LICHEN_PANIC(...) ::lichen::internal::PanicFormatted(__FILE__, __LINE__, __VA_ARGS__)

// LICHEN_ASSERT in builds with LICHEN_DEBUG_CHECKS. Without it the check sits in a branch
// that is never taken: the arguments are type-checked but not evaluated, and no code is emitted.
#if defined(LICHEN_DEBUG_CHECKS)
#define LICHEN_DEBUG_ASSERT(...) LICHEN_ASSERT(__VA_ARGS__)
#else
#define LICHEN_DEBUG_ASSERT(...)  \
  do {                            \
    if (false) {                  \
      LICHEN_ASSERT(__VA_ARGS__); \
    }                             \
  } while (0)
#endif
