// The scheduler's side of the messenger: sending tasks, calls and steal traffic, and acting
// on what arrives in this CPU's mailbox.
#include "kernel/sched/messages.h"

#include "kernel/base/debug.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/task.h"
#include "kernel/sched/wait.h"
#include "kernel/smp/messenger.h"
#include "lib/container_of.h"

namespace lichen::sched {

void PostTask(uint32_t cpu, Task& task) {
  task.message.kind = static_cast<uint8_t>(MessageKind::kTask);
  Shared(cpu).incoming_tasks.FetchAdd(1, std::memory_order_relaxed);
  Shared(cpu).incoming_load.FetchAdd(task.se.weight, std::memory_order_relaxed);
  // The push's release publishes task.cpu, task.transit and the task's whole state to the
  // receiver, which acquires it in TakeAll().
  smp::Push(cpu, task.message);
  if (LICHEN_FAULT(no_wake_ipi)) return;  // the seed's bug: nobody tells the target
  smp::Kick(cpu, trace::IpiKind::kTask);
}

void PostSmall(uint32_t cpu, SmallKind kind, uint32_t from, uint64_t arg) {
  smp::PostSmall(cpu, smp::SmallMessage{static_cast<uint8_t>(kind), from, arg},
                 kind == SmallKind::kStealRequest ? trace::IpiKind::kStealRequest
                                                  : trace::IpiKind::kStealNack);
}

void CallOn(uint32_t cpu, void (*fn)(void* arg), void* arg) {
  CallRequest request;
  request.fn = fn;
  request.arg = arg;
  request.waiter = Current();
  DebugNoteWaitFlag(*request.waiter, &request.done);
  smp::Post(cpu, request.msg, trace::IpiKind::kCall);
  // Neither a deadline nor interruptible: the request lives on this stack until it ran.
  Wait([&request] { return request.done.Load(std::memory_order_acquire); });
  // The handler runs with IRQs masked and is past `done`: this wait is short. (If it runs on
  // this CPU, it ran to its end before this task could see `done`.)
  while (!LICHEN_FAULT(call_returns_before_wake) &&
         !request.finished.Load(std::memory_order_acquire))
    platform::CpuRelax();
  DebugNoteWaitFlag(*request.waiter, nullptr);
}

void HandleMessages(IrqsOff irqs_off) {
  // The handlers run inside Drain with IRQs still masked (AssumeIrqsOff re-checks it).
  smp::Drain(
      irqs_off,
      [](smp::Message& message) {
        switch (static_cast<MessageKind>(message.kind)) {
          case MessageKind::kTask: {
            Task& task = *ContainerOf<Task, smp::Message, &Task::message>(&message);
            ReceiveTask(task, AssumeIrqsOff());
            return;
          }
          case MessageKind::kCall: {
            CallRequest& request =
                *ContainerOf<CallRequest, smp::Message, &CallRequest::msg>(&message);
            request.fn(request.arg);
            // The caller may see `done` and leave Wait before the Wake() below; it then
            // waits for `finished`, so the request stays until we set it and the Wake()
            // cannot land in the caller's next sleep.
            Task* waiter = request.waiter;
            request.done.Store(true, std::memory_order_release);
            Wake(waiter);
            // Under the fault the caller does not wait for this, and is gone.
            if (!LICHEN_FAULT(call_returns_before_wake)) {
              request.finished.Store(true, std::memory_order_release);
            }
            return;
          }
        }
        LICHEN_PANIC("message of unknown kind {}", message.kind);
      },
      [](const smp::SmallMessage& small) {
        switch (static_cast<SmallKind>(small.kind)) {
          case SmallKind::kStealRequest:
            OnStealRequest(small.from, AssumeIrqsOff());
            return;
          case SmallKind::kStealNack:
            OnStealRefused(small.from, small.arg, AssumeIrqsOff());
            return;
        }
        LICHEN_PANIC("small message of unknown kind {}", small.kind);
      });
}

}  // namespace lichen::sched
