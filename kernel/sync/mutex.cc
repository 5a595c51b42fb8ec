#include "kernel/sync/mutex.h"

#include "kernel/base/debug.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "lib/assert.h"

namespace lichen {

namespace {
LockClass g_mutex_class("sync.mutex", LockRank::kMutex);
LockClass g_mutex_internal_class("sync.mutex.internal", LockRank::kMutexState);
}  // namespace

Mutex::Mutex() : Mutex(g_mutex_class) {}

Mutex::Mutex(LockClass& cls) : class_(&cls), lock_(g_mutex_internal_class) {}

void Mutex::Lock() {
  const bool locked = LockUntil({});
  LICHEN_ASSERT(locked, "an untimed, uninterruptible Mutex::Lock gave up");
}

bool Mutex::LockUntil(const sched::WaitOptions& options, sched::WaitResult* result) {
  Task* self = sched::Current();
  Waiter waiter;
  waiter.task = self;
  // Checked before blocking, so an order that could deadlock is reported even when this
  // acquisition does not have to wait. Withdrawn below if the wait gives up.
  lockdep::OnAcquireSleeping(*class_);
  {
    LockGuard<SpinLock> guard(lock_);
    LICHEN_ASSERT(owner_ != self, "task {} locks a mutex it already holds", self->id);
    if (owner_ == nullptr) {
      owner_ = self;
      if (result != nullptr) *result = sched::WaitResult::kCondition;
      return true;
    }
    waiters_.PushBack(waiter);
  }
  // Wait for the hand-off: Unlock() makes us the owner before waking us.
  const sched::WaitResult why = sched::Wait(
      [&] {
        LockGuard<SpinLock> guard(lock_);
        return waiter.granted;
      },
      [&] {
        // Deadline or interruption. Unlock() may have handed us the mutex just now: then we
        // own it and must say so; withdrawing would leave a mutex owned by a task that
        // believes it gave up, and nobody would ever unlock it.
        LockGuard<SpinLock> guard(lock_);
        if (waiter.granted && !LICHEN_FAULT(mutex_timeout_ignores_grant)) return true;
        if (waiter.node.linked()) waiters_.Remove(waiter);
        return false;
      },
      options);
  if (result != nullptr) *result = why;
  if (why != sched::WaitResult::kCondition) lockdep::OnReleaseSleeping(*class_);
  return why == sched::WaitResult::kCondition;
}

bool Mutex::TryLock() {
  {
    LockGuard<SpinLock> guard(lock_);
    if (owner_ != nullptr) return false;
    owner_ = sched::Current();
  }
  // Outside the state lock: the mutex ranks below it.
  lockdep::OnAcquireSleeping(*class_);
  return true;
}

void Mutex::Unlock() {
  lockdep::OnReleaseSleeping(*class_);
  {
    LockGuard<SpinLock> guard(lock_);
    LICHEN_ASSERT(owner_ == sched::Current(), "mutex unlocked by a task that does not own it");
    Waiter* next = waiters_.PopFront();
    owner_ = next != nullptr ? next->task : nullptr;
    if (next != nullptr) {
      next->granted = true;
      sched::Wake(next->task);  // under the lock: `next` lives on its task's stack
    }
  }
  sched::PreemptPoint();
}

Task* Mutex::OwnerHint() const {
  // Racy read for diagnostics only; the analysis cannot see that it is harmless.
  return [this]() TA_NO_THREAD_SAFETY_ANALYSIS { return owner_; }();
}

}  // namespace lichen
