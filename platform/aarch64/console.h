// The kernel console: a polled PL011 UART shared by every CPU.
//
// Lines never interleave: a caller formats its whole line (or block of lines) into a buffer
// on its own stack first, then writes it to the UART in one go under the console's ticket
// lock, with IRQs masked so that an interrupt handler on the same CPU cannot try to print in
// the middle. The fatal-error path switches the console to panic mode: the reporting CPU
// waits only a bounded time for the lock (its holder may be the CPU that died) and then
// writes anyway, so a report is never lost to a deadlock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/format.h"

namespace lichen::aarch64::console {

// Programs the PL011 at `uart_base` (8N1, FIFOs on, no UART interrupts). Output written
// before Init() is dropped.
void Init(uintptr_t uart_base);

// For fatal paths that may run before Init() (a fault before the console is up): programs the
// UART at `fallback_base` if no console exists yet.
void InitIfNeeded(uintptr_t fallback_base);

// Writes `text` as one uninterrupted block; "\n" goes out as "\r\n".
void Write(std::string_view text);

// This CPU is reporting a fatal error: from now on its console writes wait at most a bounded
// time for the lock, and never for a lock this CPU itself holds.
void EnterPanicMode();

// Waits until the UART has sent everything (before powering off).
void Flush();

// lib/log.h's writer: "[seconds.micros] cpuN L: line" (L = level tag). Installed at boot.
void LogWriter(int level, const char* line, size_t len);

// Longest line Print() produces; longer output is truncated.
inline constexpr size_t kLineMax = 256;

// A Sink over a fixed line buffer (kLineMax bytes, truncating).
class LineBuffer final : public Sink {
 public:
  // Appends what fits; the rest of the line is dropped.
  void Write(const char* data, size_t len) override {
    for (size_t i = 0; i < len && len_ < kLineMax; ++i)
      buf_[len_++] = data[i];
  }
  // The line so far.
  std::string_view view() const { return std::string_view(buf_, len_); }
  // Appends "\n" (replacing the last byte when the buffer is full).
  void EndLine() {
    if (len_ == kLineMax) --len_;
    buf_[len_++] = '\n';
  }

 private:
  char buf_[kLineMax];
  size_t len_ = 0;
};

// Formats one line (lib/format.h syntax) and writes it with a trailing newline.
template <typename... Args>
void Print(const char* fmt, const Args&... args) {
  LineBuffer line;
  Format(line, fmt, args...);
  line.EndLine();
  Write(line.view());
}

}  // namespace lichen::aarch64::console
