#include "kernel/sync/waitqueue.h"

#include "kernel/sched/sched.h"

namespace lichen {

namespace {
// All wait queues share one class: no code path holds two of them at once.
LockClass g_waitqueue_class("sync.waitqueue");
}  // namespace

WaitQueue::WaitQueue() : lock_(g_waitqueue_class) {}

void WaitQueue::Enqueue(Waiter& waiter) {
  waiter.task = sched::Current();
  waiters_.PushBack(waiter);
  sched::PrepareToBlock();
}

void WaitQueue::SleepAndUnlink(Waiter& waiter) {
  sched::Block();
  SpinLockGuard guard(lock_);
  // A waker unlinks what it wakes; still linked means something else woke us.
  if (waiter.node.linked()) waiters_.Remove(waiter);
}

bool WaitQueue::WakeOne() {
  bool woke = false;
  {
    SpinLockGuard guard(lock_);
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
    SpinLockGuard guard(lock_);
    woken = WakeAllLocked();
  }
  PreemptAfterWake();
  return woken;
}

void WaitQueue::PreemptAfterWake() {
  sched::PreemptPoint();
}

}  // namespace lichen
