// Mutex: a sleeping lock with FIFO hand-off.
//
// Unlock() hands ownership straight to the longest waiter instead of letting the lock be
// grabbed by whoever runs first, so no waiter starves under contention. Task context only;
// may be held across blocking and preemption (unlike a SpinLock). Hold it for a scope with
// LockGuard<Mutex> (kernel/lock/spinlock.h).
//
// Lockdep tracks it as a sleeping lock: in the holding task's held-lock stack, not the
// CPU's, so a cycle or a rank violation between mutexes, or between a mutex and a spinlock,
// is reported, while "no spinlock across a context switch" still means spinlocks only. A
// mutex that nests with another needs a LockClass of its own, with its rank (rank.h);
// the default class (rank kMutex) is for mutexes that nest with none.
#pragma once

#include "kernel/lock/spinlock.h"
#include "kernel/sched/wait_result.h"
#include "kernel/sync/waitqueue.h"
#include "lib/list.h"

namespace lichen {

class TA_CAP("mutex") Mutex {
 public:
  Mutex();
  explicit Mutex(LockClass& cls);
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() TA_ACQ();
  // Lock() that gives up at `options.deadline_ns`, or when the task is interrupted if
  // `options.interruptible` (kernel/sched/wait.h). True if the mutex is now held; `result`
  // (if given) says why the wait ended. A hand-off that races the deadline wins: the mutex
  // is then held and the result is kCondition.
  bool LockUntil(const sched::WaitOptions& options, sched::WaitResult* result = nullptr)
      TA_TRY_ACQ(true);
  bool TryLock() TA_TRY_ACQ(true);
  void Unlock() TA_REL();
  // The owner, or nullptr (racy; for assertions and diagnostics).
  Task* OwnerHint() const;

 private:
  LockClass* class_;
  SpinLock lock_;
  Task* owner_ TA_GUARDED(lock_) = nullptr;
  IntrusiveList<Waiter, &Waiter::node> waiters_ TA_GUARDED(lock_);
};

}  // namespace lichen
