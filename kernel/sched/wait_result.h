// What a sched::Wait (kernel/sched/wait.h) is asked for and how it ended. Apart from
// wait.h so that the sync primitives' headers, which task.h includes, can name them.
#pragma once

#include <cstdint>

#include "kernel/time/timer.h"

namespace lichen::sched {

enum class WaitResult : uint8_t {
  kCondition,    // the condition holds (or was granted to this waiter)
  kTimedOut,     // the deadline passed first
  kInterrupted,  // sched::Interrupt() was called on the task (interruptible waits only)
};

// Printable name ("condition", "timed out", "interrupted").
const char* WaitResultName(WaitResult result);

struct WaitOptions {
  // Absolute, on the monotonic clock (platform::Now()); time::kNever: no deadline. A deadline
  // already past still checks the condition once.
  uint64_t deadline_ns = time::kNever;
  // Whether sched::Interrupt() ends the wait.
  bool interruptible = false;
};

}  // namespace lichen::sched
