// WaitQueue: tasks sleeping until a condition holds.
//
// The condition is evaluated under the queue's spinlock, and a waiter announces that it is
// going to sleep (sched::PrepareToBlock) before it drops the lock. Whoever makes the
// condition true does so under the same lock and then wakes a waiter, so a wakeup can fall
// neither before the check (the lock orders them) nor between the check and the sleep (the
// task state machine turns it into "woken while running", see kernel/sched/task.h).
// Waiters live on the sleeping task's stack: no allocation.
#pragma once

#include "kernel/lock/spinlock.h"
#include "kernel/sched/wait_result.h"
#include "lib/list.h"

namespace lichen {

struct Task;

// One sleeping task's entry, on its own stack.
struct Waiter {
  ListNode node;
  Task* task = nullptr;
  bool granted = false;  // set by a waker that handed something over (Mutex ownership)
};

class WaitQueue {
 public:
  WaitQueue();
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  // Sleeps until `cond()` is true. `cond` runs with the queue's lock held (IRQs masked): it
  // must only read state that is written under the same lock, e.g. in WakeAllIf's update.
  template <typename Cond>
  void WaitUntil(Cond&& cond) TA_EXCL(lock_) {
    Wait(static_cast<Cond&&>(cond), {});
  }

  // WaitUntil() that also ends at `options.deadline_ns` or, if `options.interruptible`, when
  // the task is interrupted (kernel/sched/wait.h). kCondition whenever `cond()` came true,
  // even if the deadline passed at the same time; a waiter that gives up after WakeOne()
  // chose it passes the wakeup on to the next waiter, so it is not lost.
  template <typename Cond>
  sched::WaitResult Wait(Cond&& cond, const sched::WaitOptions& options) TA_EXCL(lock_) {
    auto* cond_ptr = &cond;
    using CondPtr = decltype(cond_ptr);
    return WaitImpl([](void* c) { return (**static_cast<CondPtr*>(c))(); }, &cond_ptr, options);
  }

  // Runs `update()` and wakes every waiter in one critical section (they re-check). After
  // the lock is released the caller no longer touches the queue, so a woken waiter may free
  // it at once (a Completion inside an exited Task).
  template <typename Update>
  void UpdateAndWakeAll(Update&& update) TA_EXCL(lock_) {
    {
      LockGuard<SpinLock> guard(lock_);
      update();
      WakeAllLocked();
    }
    PreemptAfterWake();
  }

  // Wakes the longest-waiting task; false if there was none.
  bool WakeOne() TA_EXCL(lock_);
  // Wakes every waiting task; returns how many.
  uint32_t WakeAll() TA_EXCL(lock_);

 private:
  // The loop of Wait(), out of line (sched::Wait lives in a header this one cannot include).
  sched::WaitResult WaitImpl(bool (*cond)(void*), void* arg, const sched::WaitOptions& options)
      TA_EXCL(lock_);
  // Pops and wakes every waiter; returns how many.
  uint32_t WakeAllLocked() TA_REQ(lock_);
  // Lets a woken task with an earlier deadline preempt the caller (after the lock is gone).
  static void PreemptAfterWake();

  SpinLock lock_;
  IntrusiveList<Waiter, &Waiter::node> waiters_ TA_GUARDED(lock_);
};

}  // namespace lichen
