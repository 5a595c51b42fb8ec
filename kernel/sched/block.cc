// Blocking and waking: how does a task go to sleep without missing the wakeup that follows?
//
// Owns the blocking protocol (PrepareToBlock, CancelBlock, Block, Wake: the task states it
// moves through are described in task.h), the plain sleeps built on sched::Wait, and the hook
// by which the simulator catches a lost wakeup (DebugNoteWaitFlag). A blocking task becomes
// kSleeping, visible to wakers, only in FinishSwitch (switch.cc), once its registers are saved.
#include "kernel/base/debug.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/orders.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "lib/assert.h"

namespace lichen::sched {

void PrepareToBlock() {
  Task* self = Current();
  // Only the task itself leaves kRunning, and wakers ignore kRunning. The store, then a full
  // barrier before the caller's next load (its condition re-check): they pair with a waker's
  // store of the condition and its load of this state (after Wake()'s barrier), a
  // store-buffering pair that needs a full barrier on both sides (kernel/sched/orders.h).
  // The store is seq_cst and releases what the task did before it to a waker that reads it.
  self->state.Store(TaskState::kBlocking, orders::kAnnounceBlocking);
  ThreadFence(orders::kAnnounceBlockingBarrier);
}

void CancelBlock() {
  Task* self = Current();
  TaskState state = TaskState::kBlocking;
  if (!self->state.CompareExchange(state, TaskState::kRunning, std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
    LICHEN_ASSERT(state == TaskState::kWokenWhileRunning, "CancelBlock in state {}",
                  TaskStateName(state));
    self->state.Store(TaskState::kRunning, std::memory_order_relaxed);
  }
}

void Block() {
  Schedule();
}

bool Wake(Task* task) {
  // The waker made the sleeper's condition true just before (CallOn's done, a wait's deadline): a
  // full barrier orders that store before this load of the state, as PrepareToBlock's seq_cst
  // store orders kBlocking before the sleeper's load of the condition. Without it the two
  // form a store-buffering pair that may both read the old value: the waker sees kRunning and
  // leaves, the sleeper sees no condition and blocks for good (Linux: the smp_mb in
  // try_to_wake_up). Found by the simulator's store buffers on CallOn.
  if (!LICHEN_FAULT(wake_without_barrier)) ThreadFence(orders::kWakeBarrier);
  TaskState state = task->state.Load(std::memory_order_acquire);
  for (;;) {
    switch (state) {
      case TaskState::kBlocking:
        if (task->state.CompareExchange(state, TaskState::kWokenWhileRunning,
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
          return true;
        }
        continue;  // `state` holds the new value
      case TaskState::kSleeping:
        if (task->state.CompareExchange(state, TaskState::kRunnable, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
          // We own it now: nobody else can wake or enqueue it.
          SendToCpu(*task, Transit::kWakeup);
          return true;
        }
        continue;
      default:
        return false;  // already awake (or exited)
    }
  }
}

void SleepUntil(uint64_t deadline_ns) {
  // A wait for nothing but its deadline. The timer event stays on this CPU's queue even if
  // the task moves: it fires there and wakes the task through the messenger.
  const WaitResult result = Wait([] { return false; }, {.deadline_ns = deadline_ns});
  LICHEN_DEBUG_ASSERT(result == WaitResult::kTimedOut, "a sleep ended by {}",
                      WaitResultName(result));
}

void SleepFor(uint64_t ns) {
  SleepUntil(platform::Now() + ns);
}

void DebugNoteWaitFlag(Task& task, const Atomic<bool>* flag) {
#if defined(LICHEN_HOST)
  if constexpr (kDebugChecks) task.debug_wait_flag.Store(flag, std::memory_order_relaxed);
#else
  (void)task;
  (void)flag;
#endif
}

}  // namespace lichen::sched
