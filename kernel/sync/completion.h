// Completion: a one-shot event. Wait() sleeps until Complete() has been called once; after
// that every Wait() returns at once. Used for join (a task's exit) and for cross-CPU calls.
#pragma once

#include "kernel/sync/waitqueue.h"

namespace lichen {

class Completion {
 public:
  Completion() = default;
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // Marks the event done and wakes every waiter. Safe from interrupt context.
  void Complete() {
    queue_.UpdateAndWakeAll([this] { done_.Store(true, std::memory_order_release); });
  }
  // Sleeps until Complete() has been called. Task context only.
  void Wait() {
    queue_.WaitUntil([this] { return done_.Load(std::memory_order_acquire); });
  }
  // True once Complete() has been called (racy peek, for polling and diagnostics).
  bool IsDoneHint() const { return done_.Load(std::memory_order_acquire); }

 private:
  // Written under queue_'s lock (so a waiter's check cannot miss it); atomic so that
  // IsDoneHint() may peek without the lock.
  Atomic<bool> done_{false};
  WaitQueue queue_;
};

}  // namespace lichen
