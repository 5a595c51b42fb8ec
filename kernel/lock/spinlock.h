// Spinlocks: a fair ticket lock, the SpinLock built on it, and LockGuard, the one way to
// hold a lock for a scope.
//
// TicketLock is the raw lock: FIFO-fair (each waiter takes a ticket and waits for its turn,
// so no CPU starves under contention, unlike a test-and-set lock), no IRQ masking. It is for
// code that already runs with IRQs masked, and it is what a naive design would use for
// everything -- which is exactly the seed's heap deadlock.
//
// SpinLock is the lock the core uses: a TicketLock that may only be taken with IRQs masked,
// so an interrupt handler on the same CPU can never find it held. It is taken through a
// LockGuard, which carries the IRQ policy and the saved IRQ state: Irqs::kSave (the guard
// masks IRQs and restores them after releasing; it grants the g_irqs_off capability for its
// scope, and hands out IrqsOff tokens, so code under it can borrow per-CPU state without a
// second IrqGuard) or Irqs::kAlreadyOff (the caller proves IRQs are masked with its token;
// the guard leaves them alone). The state lives in the guard, not in the lock, so the lock
// is written only by its ticket operations. Both report to the lock-order checker
// (kernel/lock/lockdep.h) in debug builds; their order is kernel/lock/rank.h.
//
// Neither may be held across a context switch; the scheduler asserts that.
#pragma once

#include <cstdint>

#include "kernel/base/irq_state.h"
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

  // Takes the lock. IRQs must be masked: hold it through a LockGuard, which sees to that.
  void Lock(IrqsOff) TA_REQ(g_irqs_off) TA_ACQ() { raw_.Lock(); }
  // Releases the lock; IRQs stay as they are.
  void Unlock() TA_REL() { raw_.Unlock(); }
  void AssertHeld() const TA_ASSERT() { raw_.AssertHeld(); }
  // See TicketLock::Peek.
  TicketLock::Snapshot Peek() const { return raw_.Peek(); }

 private:
  TicketLock raw_;
};

// What a guard does with IRQs.
enum class Irqs : uint8_t {
  kSave,        // save the IRQ state and mask IRQs before locking, restore it after unlocking
  kAlreadyOff,  // the caller has IRQs masked (and holds the token); leave them alone
};

// Holds a lock for its scope. The generic form is for locks with no IRQ policy (Mutex, the
// allocators' IrqUnsafeLock): Lock() on entry, Unlock() on exit. The IrqsOff form exists so
// that code generic over the lock type (the allocators) can say "IRQs are already masked
// here" whatever the lock; for these locks it changes nothing.
template <typename Lock>
class TA_SCOPED_CAP LockGuard {
 public:
  explicit LockGuard(Lock& lock) TA_ACQ(lock) : lock_(lock) { lock_.Lock(); }
  // (No TA_REQ(g_irqs_off) here or below: clang 14 takes a requirement on a scoped
  // capability's constructor for a capability the guard holds, and releases it with the guard.
  // The IrqsOff argument is the proof instead.)
  LockGuard(Lock& lock, IrqsOff) TA_ACQ(lock) : lock_(lock) { lock_.Lock(); }
  ~LockGuard() TA_REL() { lock_.Unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& lock_;
};

// Holds a SpinLock for its scope, with IRQs masked for at least as long.
template <>
class TA_SCOPED_CAP LockGuard<SpinLock> {
 public:
  // Irqs::kSave: saves and masks IRQs, then takes the lock. The analysis sees the guard hold
  // both the lock and g_irqs_off, so code in its scope may call TA_REQ(g_irqs_off) functions
  // (with token()). Not for a scope that already holds g_irqs_off: use the form below.
  explicit LockGuard(SpinLock& lock) TA_ACQ(lock, g_irqs_off);
  // Irqs::kAlreadyOff: takes the lock under the caller's masked IRQs.
  LockGuard(SpinLock& lock, IrqsOff irqs_off) TA_ACQ(lock);
  // Releases the lock, then (kSave) restores the saved IRQ state.
  ~LockGuard() TA_REL();
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

  // Proof that IRQs are masked, for per-CPU accessors; valid while the guard lives.
  IrqsOff token() const;
  Irqs policy() const { return policy_; }

 private:
  SpinLock& lock_;
  Irqs policy_;
  platform::IrqState saved_{};  // kSave: the state to restore
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
    LockGuard<SpinLock> guard(lock_);
    return f(value_);
  }

 private:
  SpinLock lock_;
  T value_ TA_GUARDED(lock_);
};

}  // namespace lichen
