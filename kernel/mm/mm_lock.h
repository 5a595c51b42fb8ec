// The lock seam of the memory allocators.
//
// BasicPageAllocator<Lock> and BasicHeap<Lock> take their lock type as a template parameter.
// The kernel instantiates them with SpinLock, whose guard saves and masks IRQs before taking
// its ticket, so an interrupt handler that allocates can never find the allocator's lock held by
// the code it interrupted on the same CPU. IrqUnsafeLock below is the other instantiation: the
// seed discussion's design (a plain spinlock around the heap), kept so that a regression
// scenario can run the real allocator code with the naive lock and watch it deadlock.
//
// A Lock type provides: a constexpr constructor from a lockdep::LockClass&, and whatever
// LockGuard<Lock> (kernel/lock/spinlock.h) needs to hold it, plus AssertHeld(), annotated as a
// clang capability. The allocators hold it only through LockGuard<Lock>.
#pragma once

#include "kernel/lock/lockdep.h"
#include "kernel/lock/spinlock.h"
#include "lib/thread_annotations.h"

namespace lichen::mm {

// The naive allocator lock: a TicketLock that leaves IRQs as they are. If an interrupt
// arrives while it is held and the handler takes it again on the same CPU, that CPU spins on
// its own ticket forever -- the seed's heap deadlock. Only for regression tests; the kernel
// never instantiates an allocator with it.
class TA_CAP("irq_unsafe_lock") IrqUnsafeLock {
 public:
  constexpr explicit IrqUnsafeLock(lockdep::LockClass& cls) : raw_(cls) {}
  IrqUnsafeLock(const IrqUnsafeLock&) = delete;
  IrqUnsafeLock& operator=(const IrqUnsafeLock&) = delete;

  // Takes the ticket lock without touching the IRQ mask.
  void Lock() TA_ACQ() { raw_.Lock(); }
  // Serves the next ticket.
  void Unlock() TA_REL() { raw_.Unlock(); }
  // Tells the analysis (and, in debug builds, checks) that this CPU holds the lock.
  void AssertHeld() const TA_ASSERT() { raw_.AssertHeld(); }

 private:
  TicketLock raw_;
};

}  // namespace lichen::mm
