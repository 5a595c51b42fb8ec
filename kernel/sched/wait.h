// Wait: the one blocking loop of the core.
//
// Every sleep in the kernel -- a WaitQueue, a Mutex hand-off, a cross-CPU call, SleepUntil --
// is "block until a condition holds", and the kernel's later users (futex timeouts,
// nanosleep, exit_group killing blocked threads, signals) also need "... or until a
// deadline, or until someone interrupts the task". sched::Wait is that loop, written once on
// the task-state protocol (task.h): announce the sleep (PrepareToBlock), re-check the
// condition, the interruption request and the deadline, and only then Block(). A wakeup
// that lands anywhere after the announcement is not lost.
//
// The deadline is a TimerEvent on the waiter's stack, queued on the per-CPU timer queue of
// the CPU the wait started on; it fires there (in that CPU's timer interrupt) and wakes the
// task through the messenger like any waker, wherever the task has moved since. Before
// Wait returns, on every path, the event is off that queue: cancelled by that CPU (inline
// when the task is back on it, by CallOn otherwise), or already fired.
//
// Timed-out and interrupted waits race with wakers: a waker may have granted the condition
// (handed over a Mutex, popped the waiter off a WaitQueue) just as the deadline passed. The
// caller's `give_up()` settles that race under the caller's own lock: it withdraws the
// waiter and returns false, or finds that the grant already happened and returns true, and
// the wait then reports kCondition. So a wake is never lost to a timeout, and a waiter is
// never both woken and timed out.
#pragma once

#include <cstdint>

#include "kernel/sched/sched.h"
#include "kernel/sched/timer_event.h"
#include "kernel/sched/wait_result.h"
#include "lib/atomic.h"

namespace lichen::sched {

// The deadline of one wait: lives on the waiter's stack for the wait's duration.
struct WaitTimer {
  WaitTimer();
  WaitTimer(const WaitTimer&) = delete;
  WaitTimer& operator=(const WaitTimer&) = delete;

  sched::TimerEvent event;
  Task* task = nullptr;
  // The CPU whose timer queue holds `event` (the one the wait started on).
  uint32_t cpu = 0;
  bool armed = false;
  // Set by the event's callback before its Wake() (or at once for a deadline already past):
  // the waiter's "timed out" condition.
  Atomic<bool> fired{false};
  // Set by the callback after its Wake(): from then on it touches neither this struct nor
  // the task, so the waiter may return without a late wake landing in its next sleep.
  Atomic<bool> finished{false};
};

// Arms `timer` for `deadline_ns` on this CPU's queue, or marks it fired at once if the
// deadline has passed. Does nothing for time::kNever.
void ArmWaitTimer(WaitTimer& timer, uint64_t deadline_ns);
// Takes `timer` off its CPU's queue if it has not fired. Task context; may sleep (a
// cross-CPU call) when the task has moved away from the timer's CPU.
void DisarmWaitTimer(WaitTimer& timer);
// Marks the calling task as in an interruptible wait (or no longer).
void SetInterruptibleWait(bool interruptible);
// Whether an interruption is pending for the calling task.
bool InterruptPending();

// Asks `task` to stop waiting: sets its pending interruption and wakes it if it is in an
// interruptible wait (through the messenger if it is on another CPU, like any wake). The
// request stays pending, and ends every later interruptible wait at once, until the task
// calls ClearInterrupt(). Safe from any CPU and context.
void Interrupt(Task* task);
// Consumes the calling task's pending interruption; true if there was one.
bool ClearInterrupt();

// Sleeps until `check()` is true, the deadline passes or (if interruptible) the task is
// interrupted. `check()` runs with the task already announced as blocking (it may take a
// spinlock, must not sleep) and is re-run after every wakeup, so spurious wakeups are
// harmless. `give_up()` runs once when the wait ends by deadline or interruption: it
// withdraws the waiter from whatever it is queued on and returns false, or returns true if
// the condition was granted meanwhile (the result is then kCondition).
template <typename Check, typename GiveUp>
WaitResult Wait(Check&& check, GiveUp&& give_up, const WaitOptions& options) {
  WaitTimer timer;
  ArmWaitTimer(timer, options.deadline_ns);
  if (timer.armed) DebugNoteWaitFlag(*Current(), &timer.fired);
  if (options.interruptible) SetInterruptibleWait(true);
  WaitResult result = WaitResult::kCondition;
  for (;;) {
    PrepareToBlock();
    if (check()) break;
    if (options.interruptible && InterruptPending()) {
      result = WaitResult::kInterrupted;
      break;
    }
    if (timer.fired.Load(std::memory_order_acquire)) {
      result = WaitResult::kTimedOut;
      break;
    }
    Block();
  }
  CancelBlock();
  if (options.interruptible) SetInterruptibleWait(false);
  if (timer.armed) DebugNoteWaitFlag(*Current(), nullptr);
  if (result != WaitResult::kCondition && give_up()) result = WaitResult::kCondition;
  DisarmWaitTimer(timer);
  return result;
}

// A wait with nothing to withdraw (a flag set by one known waker).
template <typename Check>
WaitResult Wait(Check&& check, const WaitOptions& options = {}) {
  return Wait(
      static_cast<Check&&>(check), [] { return false; }, options);
}

}  // namespace lichen::sched
