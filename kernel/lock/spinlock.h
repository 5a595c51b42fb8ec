// Spinlocks: a fair ticket lock, and the IRQ-saving SpinLock built on it.
//
// TicketLock is the raw lock: FIFO-fair (each waiter takes a ticket and waits for its turn,
// so no CPU starves under contention, unlike a test-and-set lock), no IRQ masking. It is for
// code that already runs with IRQs masked, and it is what a naive design would use for
// everything -- which is exactly the seed's heap deadlock.
//
// SpinLock saves and masks IRQs before taking the ticket and restores them after release,
// so an interrupt handler on the same CPU can never find it held. It is the lock the core
// uses. Both report to the lock-order checker (kernel/lock/lockdep.h) in debug builds.
//
// Neither may be held across a context switch; the scheduler asserts that.
#pragma once

#include <cstdint>

#include "kernel/base/platform.h"
#include "kernel/lock/lockdep.h"
#include "lib/atomic.h"
#include "lib/thread_annotations.h"

namespace lichen {

using lockdep::LockClass;

class TA_CAP("ticket_lock") TicketLock {
 public:
  constexpr explicit TicketLock(LockClass& cls) : class_(&cls) {}
  TicketLock(const TicketLock&) = delete;
  TicketLock& operator=(const TicketLock&) = delete;

  // Takes a ticket and spins until it is served.
  void Lock() TA_ACQ();
  // Takes the lock only if it is free right now.
  bool TryLock() TA_TRY_ACQ(true);
  // Serves the next ticket.
  void Unlock() TA_REL();
  // Tells the analysis (and, in debug builds, checks) that the caller holds the lock.
  void AssertHeld() const TA_ASSERT();
  // True if some CPU holds the lock (racy; for assertions and the simulator's checks).
  bool IsLockedHint() const;

  // The ticket counters and (debug builds) the holder, read racily: for hang reports, where
  // two snapshots some time apart tell a stuck lock (serving does not move) from a slow one.
  struct Snapshot {
    uint32_t next_ticket;
    uint32_t now_serving;
    uint32_t holder_cpu;  // kNoHolder (~0u) when free or unknown
  };
  Snapshot Peek() const;

 private:
  Atomic<uint32_t> next_ticket_{0};
  Atomic<uint32_t> now_serving_{0};
  LockClass* class_;
  Atomic<uint32_t> holder_cpu_{kNoHolder};  // debug: who holds it
  static constexpr uint32_t kNoHolder = ~0u;
};

class TA_CAP("spinlock") SpinLock {
 public:
  constexpr explicit SpinLock(LockClass& cls) : raw_(cls) {}
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  // Saves and masks IRQs, then takes the lock.
  void Acquire() TA_ACQ();
  // Releases the lock, then restores the IRQ state saved by Acquire().
  void Release() TA_REL();
  void AssertHeld() const TA_ASSERT();
  // See TicketLock::Peek.
  TicketLock::Snapshot Peek() const { return raw_.Peek(); }

 private:
  TicketLock raw_;
  platform::IrqState saved_{};  // written and read only by the holder
};

// Holds a SpinLock for its scope.
class TA_SCOPED_CAP SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& lock) TA_ACQ(lock) : lock_(lock) { lock_.Acquire(); }
  ~SpinLockGuard() TA_REL() { lock_.Release(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& lock_;
};

// A value reachable only while its SpinLock is held (SerenityOS's SpinlockProtected):
// `counter.With([](int& c) { ++c; });`.
template <typename T>
class SpinLockProtected {
 public:
  constexpr explicit SpinLockProtected(LockClass& cls) : lock_(cls) {}
  template <typename... Args>
  constexpr explicit SpinLockProtected(LockClass& cls, Args&&... args)
      : lock_(cls), value_(static_cast<Args&&>(args)...) {}

  template <typename F>
  decltype(auto) With(F&& f) {
    SpinLockGuard guard(lock_);
    return f(value_);
  }

 private:
  SpinLock lock_;
  T value_ TA_GUARDED(lock_);
};

}  // namespace lichen
