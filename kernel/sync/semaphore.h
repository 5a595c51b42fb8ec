// Semaphore: a counter that Down() decrements, sleeping while it is zero. Up() may be called
// from any context, including interrupt handlers and other CPUs.
#pragma once

#include <cstdint>

#include "kernel/sync/waitqueue.h"

namespace lichen {

class Semaphore {
 public:
  explicit Semaphore(uint64_t initial = 0) : count_(initial) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Adds one and wakes the waiters (the first to re-check takes it).
  void Up() {
    queue_.UpdateAndWakeAll([this] {
      count_.Store(count_.Load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    });
  }
  // Takes one, sleeping until there is one. Task context only.
  void Down() {
    queue_.WaitUntil([this] {
      const uint64_t count = count_.Load(std::memory_order_relaxed);
      if (count == 0) return false;
      count_.Store(count - 1, std::memory_order_relaxed);
      return true;
    });
  }
  // The current count (racy peek).
  uint64_t CountHint() const { return count_.Load(std::memory_order_relaxed); }

 private:
  // Changed only under queue_'s lock (inside WaitUntil / UpdateAndWakeAll); atomic for the
  // lock-free peek.
  Atomic<uint64_t> count_;
  WaitQueue queue_;
};

}  // namespace lichen
