#include "kernel/sched/wait.h"

#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/messages.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"
#include "lib/container_of.h"

namespace lichen::sched {

namespace {

// Runs on the timer's CPU, in its timer interrupt, IRQs masked.
void OnWaitTimer(sched::TimerEvent& event, CpuLocal& cpu) {
  WaitTimer& timer = *ContainerOf<WaitTimer, sched::TimerEvent, &WaitTimer::event>(&event);
  Task* task = timer.task;
  trace::Record(cpu.id, trace::Kind::kTimerFired, event.deadline_ns, task->id,
                static_cast<uint8_t>(trace::TimerKind::kSleep));
  timer.fired.Store(true, std::memory_order_release);
  Wake(task);
  // Last touch: once it is set the waiter may return and its stack be reused.
  timer.finished.Store(true, std::memory_order_release);
}

// On the timer's CPU, IRQs masked: takes the event off the queue unless it has fired.
void CancelHere(WaitTimer& timer, CpuLocal& cpu) {
  if (!timer.event.queued) return;
  cpu.timers.Cancel(timer.event);
  ProgramTimer(cpu);
}

}  // namespace

const char* WaitResultName(WaitResult result) {
  switch (result) {
    case WaitResult::kCondition:
      return "condition";
    case WaitResult::kTimedOut:
      return "timed out";
    case WaitResult::kInterrupted:
      return "interrupted";
  }
  return "?";
}

WaitTimer::WaitTimer() : event(&OnWaitTimer) {}

void ArmWaitTimer(WaitTimer& timer, uint64_t deadline_ns) {
  if (deadline_ns == time::kNever) return;
  timer.task = Current();
  IrqGuard guard;
  auto cpu = ThisCpuLocal(guard.token());
  if (deadline_ns <= platform::Now()) {
    // Already due: no event, the wait checks its condition once and times out.
    timer.fired.Store(true, std::memory_order_relaxed);
    return;
  }
  timer.cpu = cpu->id;
  timer.armed = true;
  cpu->timers.Add(timer.event, deadline_ns);
  trace::Record(cpu->id, trace::Kind::kTimerArmed, deadline_ns, timer.task->id,
                static_cast<uint8_t>(trace::TimerKind::kSleep));
  ProgramTimer(*cpu);
}

void DisarmWaitTimer(WaitTimer& timer) {
  if (!timer.armed) return;
  // Only the timer's CPU touches its queue. Once the callback finished it is done with us.
  if (timer.finished.Load(std::memory_order_acquire)) return;
  {
    IrqGuard guard;
    auto cpu = ThisCpuLocal(guard.token());
    if (cpu->id == timer.cpu) {
      // Its timer interrupt cannot run in between: the event is queued or has fired.
      CancelHere(timer, *cpu);
      return;
    }
  }
  // The task moved since it armed the event. If the event fired, its callback is running on
  // the timer's CPU right now with IRQs masked, and finishes without needing us: wait for it,
  // so that its Wake() cannot land in the caller's next sleep.
  if (timer.fired.Load(std::memory_order_acquire)) {
    while (!timer.finished.Load(std::memory_order_acquire))
      platform::CpuRelax();
    return;
  }
  // Not fired yet: ask the timer's CPU (the call returns only after
  // it ran there, so the event is off the queue or has fired, either way done with `timer`).
  // The task may have moved back to that CPU meanwhile: the call then goes through this
  // CPU's own mailbox, which works the same.
  CallOn(
      timer.cpu,
      [](void* arg) TA_NO_THREAD_SAFETY_ANALYSIS {
        CancelHere(*static_cast<WaitTimer*>(arg), *ThisCpuLocal(AssumeIrqsOff()));
      },
      &timer);
}

void SetInterruptibleWait(bool interruptible) {
  Task* self = Current();
  if (interruptible) {
    // seq_cst: pairs with Interrupt()'s store of the request and exchange of this flag.
    self->interruptible_wait.Store(Task::kInterruptible, std::memory_order_seq_cst);
    return;
  }
  // Leaving: an Interrupt() that already claimed the wake finishes it first (with IRQs
  // masked, so it is not preempted meanwhile), or its Wake() could land in the task's next,
  // unrelated sleep.
  for (;;) {
    uint8_t expected = Task::kInterruptible;
    if (self->interruptible_wait.CompareExchange(expected, Task::kNotInterruptible,
                                                 std::memory_order_seq_cst,
                                                 std::memory_order_acquire)) {
      return;
    }
    platform::CpuRelax();
  }
}

bool InterruptPending() {
  return Current()->interrupt_pending.Load(std::memory_order_seq_cst);
}

void Interrupt(Task* task) {
  // A store-buffering pair with the waiter, which stores interruptible_wait and then loads
  // interrupt_pending: with both seq_cst, either the waiter sees the request, or we see the
  // waiter's flag and wake it (Wake then finds it blocking or asleep, never still running
  // before its check).
  task->interrupt_pending.Store(true, std::memory_order_seq_cst);
  {
    IrqGuard guard;
    uint8_t expected = Task::kInterruptible;
    // Not in an interruptible wait (it will see the request), or already being woken.
    if (!task->interruptible_wait.CompareExchange(expected, Task::kBeingInterrupted,
                                                  std::memory_order_seq_cst,
                                                  std::memory_order_acquire)) {
      return;
    }
    Wake(task);
    task->interruptible_wait.Store(Task::kInterruptible, std::memory_order_release);
  }
  PreemptPoint();  // the woken task may deserve this CPU
}

bool ClearInterrupt() {
  return Current()->interrupt_pending.Exchange(false, std::memory_order_seq_cst);
}

}  // namespace lichen::sched
