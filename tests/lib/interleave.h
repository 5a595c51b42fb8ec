// A test helper around lib/atomic.h's interleaving hook: runs an action just before the k-th
// atomic operation of the current thread, as if an interrupt (or another CPU) ran there. Used
// to check lock-free code at every preemption point, deterministically, on one thread.
#pragma once

#include <functional>
#include <utility>

#include "lib/atomic.h"

namespace lichen::test {

#if !defined(LICHEN_INTERLEAVE_HOOK)
#error "the interleaving tests need LICHEN_INTERLEAVE_HOOK (host builds define it)"
#endif

class InterleaveAt {
 public:
  // Installs the hook: `action` runs before this thread's `k`-th atomic operation (k >= 1),
  // once; atomic operations inside `action` are not counted.
  InterleaveAt(int k, std::function<void()> action) : target_(k), action_(std::move(action)) {
    current_ = this;
    g_interleave_hook = &Hook;
  }
  ~InterleaveAt() {
    g_interleave_hook = nullptr;
    current_ = nullptr;
  }
  InterleaveAt(const InterleaveAt&) = delete;
  InterleaveAt& operator=(const InterleaveAt&) = delete;

  // True once the action has run (false: the code did fewer than k atomic operations).
  bool fired() const { return fired_; }

 private:
  static void Hook() {
    InterleaveAt* self = current_;
    if (self == nullptr || self->fired_ || ++self->count_ != self->target_) return;
    self->fired_ = true;
    g_interleave_hook = nullptr;  // the action runs uninterrupted
    self->action_();
    g_interleave_hook = &Hook;
  }

  static inline thread_local InterleaveAt* current_ = nullptr;
  int target_;
  int count_ = 0;
  bool fired_ = false;
  std::function<void()> action_;
};

}  // namespace lichen::test
