#include "lib/log.h"

#include "lib/atomic.h"

namespace lichen {

namespace {

// The installed writer: release/acquire so a writer installed together with its state (a UART
// base address, a lock) is seen whole by every CPU that logs.
constinit Atomic<LogWriter> g_log_writer{nullptr};

constexpr char kTruncationMark[] = "...";

}  // namespace

void SetLogWriter(LogWriter writer) {
  g_log_writer.Store(writer, std::memory_order_release);
}

const char* LogLevelTag(int level) {
  switch (level) {
    case kLogError:
      return "E";
    case kLogWarn:
      return "W";
    case kLogInfo:
      return "I";
    case kLogDebug:
      return "D";
    case kLogTrace:
      return "T";
    default:
      return "?";
  }
}

namespace internal {

bool LogWriterInstalled() {
  return g_log_writer.Load(std::memory_order_acquire) != nullptr;
}

void EmitLogLine(int level, char* line, size_t len, bool truncated) {
  // Reloaded: the writer may have been uninstalled while the line was formatted.
  const LogWriter writer = g_log_writer.Load(std::memory_order_acquire);
  if (writer == nullptr) return;
  constexpr size_t kMark = sizeof(kTruncationMark) - 1;
  if (truncated && len >= kMark) __builtin_memcpy(line + len - kMark, kTruncationMark, kMark);
  writer(level, line, len);
}

}  // namespace internal

}  // namespace lichen
