#include "platform/aarch64/console.h"

#include "kernel/base/platform.h"
#include "lib/log.h"
#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/ticket_lock.h"

namespace lichen::aarch64::console {

namespace {

// PL011 registers (PrimeCell UART PL011 TRM, section 3.2) and the bits used.
constexpr uintptr_t kDr = 0x00;    // data
constexpr uintptr_t kFr = 0x18;    // flags
constexpr uintptr_t kLcrH = 0x2c;  // line control
constexpr uintptr_t kCr = 0x30;    // control
constexpr uintptr_t kImsc = 0x38;  // interrupt mask set/clear
constexpr uintptr_t kIcr = 0x44;   // interrupt clear
constexpr uint32_t kFrBusy = 1u << 3;
constexpr uint32_t kFrTxFull = 1u << 5;
constexpr uint32_t kLcrHFifoEnable = 1u << 4;
constexpr uint32_t kLcrHWordLength8 = 3u << 5;
constexpr uint32_t kCrUartEnable = 1u << 0;
constexpr uint32_t kCrTxEnable = 1u << 8;
constexpr uint32_t kCrRxEnable = 1u << 9;

// How long a CPU in panic mode waits for the lock before writing anyway (in lock attempts;
// each attempt is a few instructions plus a `yield`).
constexpr uint64_t kPanicLockAttempts = 2'000'000;

// The UART's base, 0 until Init(). Written once by the boot CPU before any other CPU runs.
uintptr_t g_uart = 0;

// Serializes whole writes. Leaf lock: nothing else is acquired while it is held.
UncheckedTicketLock g_lock;
// Logical id + 1 of the CPU holding g_lock (0: none); lets the panic path detect that it
// faulted while holding the lock itself.
Atomic<uint32_t> g_holder{0};
// CPUs that entered panic mode (bit per logical id).
Atomic<uint64_t> g_panic_cpus{0};

void PutRaw(char c) {
  while (Read32(g_uart + kFr) & kFrTxFull)
    platform::CpuRelax();
  Write32(g_uart + kDr, static_cast<uint8_t>(c));
}

void PutText(std::string_view text) {
  for (char c : text) {
    if (c == '\n') PutRaw('\r');
    PutRaw(c);
  }
}

}  // namespace

void Init(uintptr_t uart_base) {
  g_uart = uart_base;
  // Disable, wait for the transmitter to drain, set 8N1 with FIFOs, mask and clear all UART
  // interrupts (the console is polled), enable. The baud rate divisors are left as the
  // firmware set them (QEMU ignores them).
  Write32(g_uart + kCr, 0);
  while (Read32(g_uart + kFr) & kFrBusy)
    platform::CpuRelax();
  Write32(g_uart + kLcrH, kLcrHWordLength8 | kLcrHFifoEnable);
  Write32(g_uart + kImsc, 0);
  Write32(g_uart + kIcr, 0x7ff);
  Write32(g_uart + kCr, kCrUartEnable | kCrTxEnable | kCrRxEnable);
}

void InitIfNeeded(uintptr_t fallback_base) {
  if (g_uart == 0) Init(fallback_base);
}

// The lock is taken conditionally in panic mode, which the analysis cannot follow; the
// invariant (unlock exactly when locked) is local to this function.
void Write(std::string_view text) TA_NO_THREAD_SAFETY_ANALYSIS {
  if (g_uart == 0) return;
  const platform::IrqState irq = platform::SaveAndMaskIrqs();
  const uint32_t me = ThisArchCpu().cpu;
  bool locked = false;
  if ((g_panic_cpus.Load(std::memory_order_relaxed) >> me) & 1) {
    if (g_holder.Load(std::memory_order_relaxed) != me + 1) {
      for (uint64_t i = 0; i < kPanicLockAttempts && !locked; ++i) {
        locked = g_lock.TryLock();
        if (!locked) platform::CpuRelax();
      }
    }
  } else {
    g_lock.Lock();
    locked = true;
  }
  if (locked) g_holder.Store(me + 1, std::memory_order_relaxed);
  PutText(text);
  if (locked) {
    g_holder.Store(0, std::memory_order_relaxed);
    g_lock.Unlock();
  }
  platform::RestoreIrqs(irq);
}

void EnterPanicMode() {
  g_panic_cpus.FetchOr(uint64_t{1} << ThisArchCpu().cpu, std::memory_order_relaxed);
}

void LogWriter(int level, const char* line, size_t len) {
  const uint64_t now_us = platform::Now() / 1000;
  LineBuffer out;
  Format(out, "[{:>5}.{:06}] cpu{} {}: ", now_us / 1'000'000, now_us % 1'000'000, ThisArchCpu().cpu,
         LogLevelTag(level));
  out.Write(line, len);
  out.EndLine();
  Write(out.view());
}

void Flush() {
  if (g_uart == 0) return;
  while (Read32(g_uart + kFr) & kFrBusy)
    platform::CpuRelax();
}

}  // namespace lichen::aarch64::console
