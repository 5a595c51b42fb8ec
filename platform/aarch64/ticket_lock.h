// A small ticket spinlock, private to the aarch64 platform (console, interrupt registration,
// the bring-up demo). The core has its own SpinLock with lock-order checking; the platform
// cannot depend on it because the console must work before, and underneath, the core.
//
// Fair (FIFO): a CPU takes a ticket with one atomic increment and waits for its turn, so no
// CPU printing in a loop can starve another. Holders must have IRQs masked (use
// IrqSaveLockGuard): an interrupt handler on the same CPU that wanted the lock would otherwise
// spin forever on a ticket that can only be served by the code it interrupted.
#pragma once

#include <cstdint>

#include "kernel/base/platform.h"
#include "lib/atomic.h"
#include "lib/thread_annotations.h"

namespace lichen::aarch64 {

class TA_CAP("ticket_lock") TicketLock {
 public:
  constexpr TicketLock() = default;
  TicketLock(const TicketLock&) = delete;
  TicketLock& operator=(const TicketLock&) = delete;

  // Takes a ticket and spins until it is served.
  void Lock() TA_ACQ() {
    const uint32_t ticket = next_.FetchAdd(1, std::memory_order_relaxed);
    while (serving_.Load(std::memory_order_acquire) != ticket)
      platform::CpuRelax();
  }

  // Takes the lock only if it is free right now (no ticket is queued).
  bool TryLock() TA_TRY_ACQ(true) {
    uint32_t serving = serving_.Load(std::memory_order_relaxed);
    uint32_t expected = serving;
    return next_.CompareExchange(expected, serving + 1, std::memory_order_acquire,
                                 std::memory_order_relaxed);
  }

  // Serves the next ticket.
  void Unlock() TA_REL() {
    serving_.Store(serving_.Load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

 private:
  Atomic<uint32_t> next_{0};     // the next ticket to hand out
  Atomic<uint32_t> serving_{0};  // the ticket that may enter
};

// Masks IRQs, then takes `lock`; releases in reverse order.
class TA_SCOPED_CAP IrqSaveLockGuard {
 public:
  explicit IrqSaveLockGuard(TicketLock& lock) TA_ACQ(lock)
      : lock_(lock), saved_(platform::SaveAndMaskIrqs()) {
    lock_.Lock();
  }
  ~IrqSaveLockGuard() TA_REL() {
    lock_.Unlock();
    platform::RestoreIrqs(saved_);
  }
  IrqSaveLockGuard(const IrqSaveLockGuard&) = delete;
  IrqSaveLockGuard& operator=(const IrqSaveLockGuard&) = delete;

 private:
  TicketLock& lock_;
  platform::IrqState saved_;
};

}  // namespace lichen::aarch64
