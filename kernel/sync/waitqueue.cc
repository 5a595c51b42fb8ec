#include "kernel/sync/waitqueue.h"

#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"

namespace lichen {

namespace {
// All wait queues share one class: no code path holds two of them at once.
LockClass g_waitqueue_class("sync.waitqueue", LockRank::kWaitQueue);
}  // namespace

WaitQueue::WaitQueue() : lock_(g_waitqueue_class) {}

sched::WaitResult WaitQueue::WaitImpl(bool (*cond)(void*), void* arg,
                                      const sched::WaitOptions& options) {
  Waiter waiter;
  waiter.task = sched::Current();
  return sched::Wait(
      [&] {
        // Announced as blocking already (sched::Wait), so a waker that makes `cond` true
        // after this check finds us queued and its wakeup is not lost.
        LockGuard<SpinLock> guard(lock_);
        if (cond(arg)) {
          if (waiter.node.linked()) waiters_.Remove(waiter);
          return true;
        }
        // A waker unlinks what it wakes: not linked means first time round, or woken and
        // the condition taken by someone else since.
        if (!waiter.node.linked()) waiters_.PushBack(waiter);
        return false;
      },
      [&] {
        LockGuard<SpinLock> guard(lock_);
        if (cond(arg)) {
          if (waiter.node.linked()) waiters_.Remove(waiter);
          return true;
        }
        if (waiter.node.linked()) {
          waiters_.Remove(waiter);
        } else if (Waiter* next = waiters_.PopFront()) {
          // A WakeOne() picked us as we gave up: hand its wakeup to the next waiter.
          sched::Wake(next->task);
        }
        return false;
      },
      options);
}

bool WaitQueue::WakeOne() {
  bool woke = false;
  {
    LockGuard<SpinLock> guard(lock_);
    if (Waiter* waiter = waiters_.PopFront()) {
      // Wake while still holding the lock: once it is released the waiter's owner may return
      // and free the object this queue lives in (a Completion inside an exiting Task).
      sched::Wake(waiter->task);
      woke = true;
    }
  }
  PreemptAfterWake();
  return woke;
}

uint32_t WaitQueue::WakeAllLocked() {
  uint32_t woken = 0;
  while (Waiter* waiter = waiters_.PopFront()) {
    sched::Wake(waiter->task);
    ++woken;
  }
  return woken;
}

uint32_t WaitQueue::WakeAll() {
  uint32_t woken = 0;
  {
    LockGuard<SpinLock> guard(lock_);
    woken = WakeAllLocked();
  }
  PreemptAfterWake();
  return woken;
}

void WaitQueue::PreemptAfterWake() {
  sched::PreemptPoint();
}

}  // namespace lichen
