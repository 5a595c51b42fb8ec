// Logging with compile-time levels.
//
//   LICHEN_LOG_INFO("cpu {} online, {} tasks", cpu, n);
//
// Levels: 1 error, 2 warn, 3 info, 4 debug, 5 trace. A call above LICHEN_LOG_LEVEL (set by
// CMake; 3 when undefined; 0 disables all) compiles to nothing: its arguments are still
// type-checked but never evaluated. An enabled call formats ONE whole line into a stack buffer
// and hands it to the installed LogWriter in a single call, so a writer that emits each call
// atomically (the platform's console lock) never interleaves lines from different CPUs. With no
// writer installed, lines are dropped without being formatted.
#pragma once

#include <cstddef>

#include "lib/format.h"

#ifndef LICHEN_LOG_LEVEL
#define LICHEN_LOG_LEVEL 3
#endif

namespace lichen {

inline constexpr int kLogError = 1;
inline constexpr int kLogWarn = 2;
inline constexpr int kLogInfo = 3;
inline constexpr int kLogDebug = 4;
inline constexpr int kLogTrace = 5;

// Size of a log line's stack buffer, NUL included. A longer line is cut and ends in "...".
inline constexpr size_t kLogLineMax = 256;

// Receives each line: NUL-terminated, `len` bytes, no trailing newline (the writer adds its
// own framing: newline, CPU id, timestamp). Must be callable from any CPU, IRQs masked or not.
using LogWriter = void (*)(int level, const char* line, size_t len);

// Installs `writer` for every CPU; nullptr drops all lines. The platform calls this at boot.
void SetLogWriter(LogWriter writer);

// "E", "W", "I", "D", "T" for levels 1..5; "?" otherwise. For writers that tag lines.
const char* LogLevelTag(int level);

namespace internal {

// True when a writer is installed (checked before formatting anything).
bool LogWriterInstalled();

// Passes the finished, NUL-terminated `line` of `len` bytes to the writer, first marking it
// with "..." at its end when formatting was `truncated`.
void EmitLogLine(int level, char* line, size_t len, bool truncated);

// The body of an enabled log macro.
template <typename... Args>
void LogLine(int level, const char* fmt, const Args&... args) {
  if (!LogWriterInstalled()) return;
  char buf[kLogLineMax];
  BufferSink sink(buf);
  Format(sink, fmt, args...);
  EmitLogLine(level, buf, sink.size(), sink.truncated());
}

}  // namespace internal

}  // namespace lichen

// Logs at `level` when level <= LICHEN_LOG_LEVEL; otherwise a discarded `if constexpr` branch
// (type-checked, never evaluated, no code).
#define LICHEN_LOG_AT(level, ...)                        \
  do {                                                   \
    if constexpr ((level) <= LICHEN_LOG_LEVEL) {         \
      ::lichen::internal::LogLine((level), __VA_ARGS__); \
    }                                                    \
  } while (0)

// LICHEN_LOG_<LEVEL>(fmt, args...): one line at that level (kLogError .. kLogTrace).
#define LICHEN_LOG_ERROR(...) LICHEN_LOG_AT(1, __VA_ARGS__)
#define LICHEN_LOG_WARN(...) LICHEN_LOG_AT(2, __VA_ARGS__)
#define LICHEN_LOG_INFO(...) LICHEN_LOG_AT(3, __VA_ARGS__)
#define LICHEN_LOG_DEBUG(...) LICHEN_LOG_AT(4, __VA_ARGS__)
#define LICHEN_LOG_TRACE(...) LICHEN_LOG_AT(5, __VA_ARGS__)
