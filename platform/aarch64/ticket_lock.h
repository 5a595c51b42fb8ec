// UncheckedTicketLock: a small ticket spinlock that the lock-order checker does not see,
// private to the aarch64 platform (console, interrupt registration, the bring-up demo).
//
// The core's TicketLock (kernel/sync/spinlock.h) is the same FIFO algorithm plus what makes it
// the core's lock: a lockdep class on every acquisition and release, a recorded holder, and
// the rule that none is held across a context switch. The platform cannot use it: the console
// must work before the core exists and underneath it (lockdep reports and panics print through
// it, so a checked console lock would recurse into the checker). "Unchecked" is that difference.
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

class TA_CAP("unchecked_ticket_lock") UncheckedTicketLock {
 public:
  constexpr UncheckedTicketLock() = default;
  UncheckedTicketLock(const UncheckedTicketLock&) = delete;
  UncheckedTicketLock& operator=(const UncheckedTicketLock&) = delete;

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
  explicit IrqSaveLockGuard(UncheckedTicketLock& lock) TA_ACQ(lock)
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
  UncheckedTicketLock& lock_;
  platform::IrqState saved_;
};

}  // namespace lichen::aarch64
