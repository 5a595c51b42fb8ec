#include "kernel/lock/spinlock.h"

#include "kernel/base/debug.h"
#include "lib/assert.h"

namespace lichen {

void TicketLock::Lock() {
  if constexpr (kDebugChecks) lockdep::OnAcquire(*class_, !platform::IrqsMasked());
  // Relaxed is enough for taking the ticket: the acquire load of now_serving_ below is what
  // orders the critical section after the previous holder's release.
  const uint32_t ticket = next_ticket_.FetchAdd(1, std::memory_order_relaxed);
  while (now_serving_.Load(std::memory_order_acquire) != ticket)
    platform::CpuRelax();
  if constexpr (kDebugChecks) holder_cpu_.Store(platform::ThisCpu(), std::memory_order_relaxed);
}

bool TicketLock::TryLock() {
  uint32_t serving = now_serving_.Load(std::memory_order_relaxed);
  uint32_t expected = serving;
  // Free exactly when next_ticket_ == now_serving_; take ticket `serving` if so.
  if (!next_ticket_.CompareExchange(expected, serving + 1, std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
    return false;
  }
  if constexpr (kDebugChecks) {
    lockdep::OnAcquire(*class_, !platform::IrqsMasked());
    holder_cpu_.Store(platform::ThisCpu(), std::memory_order_relaxed);
  }
  return true;
}

void TicketLock::Unlock() {
  if constexpr (kDebugChecks) {
    holder_cpu_.Store(kNoHolder, std::memory_order_relaxed);
    lockdep::OnRelease(*class_);
  }
  // Only the holder writes now_serving_, so a load + store is a correct increment; release
  // publishes the critical section to the next ticket holder.
  now_serving_.Store(now_serving_.Load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void TicketLock::AssertHeld() const {
  if constexpr (kDebugChecks) {
    LICHEN_ASSERT(holder_cpu_.Load(std::memory_order_relaxed) == platform::ThisCpu(),
                  "lock not held by this CPU");
  }
}

bool TicketLock::IsLockedHint() const {
  return next_ticket_.Load(std::memory_order_relaxed) !=
         now_serving_.Load(std::memory_order_relaxed);
}

TicketLock::Snapshot TicketLock::Peek() const {
  return Snapshot{next_ticket_.Load(std::memory_order_relaxed),
                  now_serving_.Load(std::memory_order_relaxed),
                  holder_cpu_.Load(std::memory_order_relaxed)};
}

LockGuard<SpinLock>::LockGuard(SpinLock& lock) : lock_(lock), policy_(Irqs::kSave) {
  saved_ = platform::SaveAndMaskIrqs();
  lock_.Lock(AssumeIrqsOff());
}

LockGuard<SpinLock>::LockGuard(SpinLock& lock, IrqsOff irqs_off)
    : lock_(lock), policy_(Irqs::kAlreadyOff) {
  lock_.Lock(irqs_off);
}

LockGuard<SpinLock>::~LockGuard() {
  lock_.Unlock();
  if (policy_ == Irqs::kSave) platform::RestoreIrqs(saved_);
}

IrqsOff LockGuard<SpinLock>::token() const {
  // IRQs are masked for the guard's whole life (it masked them, or its caller had); the
  // debug check in AssumeIrqsOff confirms it.
  return AssumeIrqsOff();
}

}  // namespace lichen
