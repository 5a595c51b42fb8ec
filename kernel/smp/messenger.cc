#include "kernel/smp/messenger.h"

#include "kernel/cpu.h"
#include "kernel/debug.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/trace.h"
#include "lib/assert.h"
#include "lib/container_of.h"

namespace lichen::smp {

void Kick(uint32_t cpu, trace::IpiKind why) {
  Mailbox& mailbox = Shared(cpu).mailbox;
  if (LICHEN_FAULT(preemptible_kick)) {
    if (mailbox.ipi_pending.Exchange(true, std::memory_order_seq_cst)) return;
    {
      IrqGuard guard;
      Shared(platform::ThisCpu()).counters.ipis_sent.AddRelaxedOwner(1);
    }  // the bug: an interrupt here may preempt the sender before its IPI goes out
    platform::SendIpi(CpuMask::Single(cpu));
    return;
  }
  // IRQs masked from setting the flag to sending the IPI: once the flag is set, no other
  // sender sends one, so a sender preempted in between (a task calling CallOn or Wake) would
  // leave every message to this CPU waiting until it runs again. Found by the simulator's
  // message-waiting-with-no-IPI invariant.
  IrqGuard guard;
  // seq_cst pairs with the owner's seq_cst clear before it drains (Drain): either the owner's
  // drain sees our message, or we see the flag clear and send a fresh IPI.
  if (mailbox.ipi_pending.Exchange(true, std::memory_order_seq_cst)) return;
  const uint32_t self = platform::ThisCpu();
  Shared(self).counters.ipis_sent.AddRelaxedOwner(1);
  trace::Record(self, trace::Kind::kIpiSent, cpu, 0, static_cast<uint8_t>(why));
  platform::SendIpi(CpuMask::Single(cpu));
}

void PostTask(uint32_t cpu, Task& task) {
  task.message.kind = MessageKind::kTask;
  Shared(cpu).incoming_tasks.FetchAdd(1, std::memory_order_relaxed);
  Shared(cpu).incoming_load.FetchAdd(task.se.weight, std::memory_order_relaxed);
  // The push's release publishes task.cpu, task.transit and the task's whole state to the
  // receiver, which acquires it in TakeAll().
  Shared(cpu).mailbox.inbox.Push(task.message);
  if (LICHEN_FAULT(no_wake_ipi)) return;  // the seed's bug: nobody tells the target
  Kick(cpu, trace::IpiKind::kTask);
}

void PostSmall(uint32_t cpu, const SmallMessage& message) {
  LICHEN_ASSERT(Shared(cpu).mailbox.small.TryPush(message), "CPU {}'s small-message ring is full",
                cpu);
  Kick(cpu, message.kind == SmallKind::kStealRequest ? trace::IpiKind::kStealRequest
            : message.kind == SmallKind::kStealNack  ? trace::IpiKind::kStealNack
                                                     : trace::IpiKind::kReschedule);
}

void CallOn(uint32_t cpu, void (*fn)(void* arg), void* arg) {
  CallRequest request;
  request.fn = fn;
  request.arg = arg;
  request.waiter = sched::Current();
  sched::DebugNoteWaitFlag(*request.waiter, &request.done);
  Shared(cpu).mailbox.inbox.Push(request.msg);
  Kick(cpu, trace::IpiKind::kCall);
  // Neither a deadline nor interruptible: the request lives on this stack until it ran.
  sched::Wait([&request] { return request.done.Load(std::memory_order_acquire); });
  sched::DebugNoteWaitFlag(*request.waiter, nullptr);
}

void Drain(IrqsOff irqs_off) {
  const uint32_t self = platform::ThisCpu();
  CpuShared& shared = Shared(self);
  Mailbox& mailbox = shared.mailbox;
  // Clear before taking (see Kick): cleared after, a message pushed between the take and the
  // clear finds the flag set, sends no IPI, and waits for whenever this CPU drains again.
  if (!LICHEN_FAULT(ipi_clear_after_drain)) {
    mailbox.ipi_pending.Store(false, LICHEN_FAULT(relaxed_ipi_clear) ? std::memory_order_release
                                                                     : std::memory_order_seq_cst);
  }
  auto batch = mailbox.inbox.TakeAll();
  if (LICHEN_FAULT(ipi_clear_after_drain)) {
    mailbox.ipi_pending.Store(false, std::memory_order_seq_cst);
  }
  while (Message* message = batch.PopFront()) {
    shared.counters.messages_received.AddRelaxedOwner(1);
    switch (message->kind) {
      case MessageKind::kTask: {
        Task& task = *ContainerOf<Task, Message, &Task::message>(message);
        sched::ReceiveTask(task, irqs_off);
        break;
      }
      case MessageKind::kCall: {
        CallRequest& request = *ContainerOf<CallRequest, Message, &CallRequest::msg>(message);
        request.fn(request.arg);
        // Read the waiter before `done`: once done is set the request (on the caller's
        // stack) may vanish.
        Task* waiter = request.waiter;
        request.done.Store(true, std::memory_order_release);
        sched::Wake(waiter);
        break;
      }
    }
  }
  SmallMessage small;
  while (mailbox.small.TryPop(small)) {
    shared.counters.messages_received.AddRelaxedOwner(1);
    switch (small.kind) {
      case SmallKind::kStealRequest:
        sched::OnStealRequest(small.from, irqs_off);
        break;
      case SmallKind::kStealNack:
        sched::OnStealRefused(small.from, small.arg, irqs_off);
        break;
      case SmallKind::kReschedule:
        sched::RequestReschedule(irqs_off);
        break;
    }
  }
}

}  // namespace lichen::smp
