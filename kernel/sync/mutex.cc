#include "kernel/sync/mutex.h"

#include "kernel/sched/sched.h"
#include "lib/assert.h"

namespace lichen {

namespace {
LockClass g_mutex_internal_class("sync.mutex.internal");
}  // namespace

Mutex::Mutex() : lock_(g_mutex_internal_class) {}

void Mutex::Lock() {
  Task* self = sched::Current();
  Waiter waiter;
  waiter.task = self;
  {
    SpinLockGuard guard(lock_);
    LICHEN_ASSERT(owner_ != self, "task {} locks a mutex it already holds", self->id);
    if (owner_ == nullptr) {
      owner_ = self;
      return;
    }
    waiters_.PushBack(waiter);
  }
  // Wait for the hand-off: Unlock() makes us the owner before waking us.
  for (;;) {
    {
      SpinLockGuard guard(lock_);
      if (waiter.granted) return;
      sched::PrepareToBlock();
    }
    sched::Block();
  }
}

bool Mutex::TryLock() {
  SpinLockGuard guard(lock_);
  if (owner_ != nullptr) return false;
  owner_ = sched::Current();
  return true;
}

void Mutex::Unlock() {
  {
    SpinLockGuard guard(lock_);
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
