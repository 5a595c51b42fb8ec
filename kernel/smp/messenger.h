// The messenger: how one CPU gets a message to another. Transport only.
//
// Each CPU has a mailbox (kernel/smp/message.h): a lock-free MPSC list of intrusive
// messages and a bounded ring of small ones. A sender pushes, then sends the IPI only if it
// is the first sender since the owner last drained (Mailbox::ipi_pending): a burst of
// messages costs one IPI. The owner drains the whole mailbox in its IPI handler (and in its
// idle loop) and hands each message to a handler it passes in (the scheduler's,
// kernel/sched/messages.cc), so its state never has a second writer. Sending to this CPU
// never goes through here: callers take their local fast path.
#pragma once

#include <cstdint>

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/smp/message.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"

namespace lichen::smp {

// `cpu`'s mailbox: senders push into it, anyone may read its counters and flags.
Mailbox& MailboxOf(uint32_t cpu);

// Pushes `message` into `cpu`'s mailbox without telling it. The caller Kick()s (or, in a
// fault-injection run, deliberately does not).
void Push(uint32_t cpu, Message& message);

// Push() and Kick(): the usual way to send.
void Post(uint32_t cpu, Message& message, trace::IpiKind why);

// Sends a small message to `cpu`. A full ring means a sender broke the in-flight bound
// (message.h): a bug, and it panics.
void PostSmall(uint32_t cpu, const SmallMessage& message, trace::IpiKind why);

// Sends the IPI to `cpu` unless one is already on its way; `why` only labels it in the trace.
void Kick(uint32_t cpu, trace::IpiKind why);

// The owner, on an IPI: counts it.
void NoteIpiReceived(IrqsOff irqs_off) TA_REQ(g_irqs_off);

// The owner takes everything in its mailbox: `on_message(Message&)` for each intrusive
// message in push order, then `on_small(const SmallMessage&)` for each small one.
// ipi_pending is cleared before the list is taken, so a message pushed after the take
// brings a new IPI.
Inbox::Batch TakeInbox(IrqsOff irqs_off) TA_REQ(g_irqs_off);
template <typename OnMessage, typename OnSmall>
void Drain(IrqsOff irqs_off, OnMessage&& on_message, OnSmall&& on_small) TA_REQ(g_irqs_off) {
  Mailbox& mailbox = MailboxOf(platform::ThisCpu());
  auto batch = TakeInbox(irqs_off);
  while (Message* message = batch.PopFront()) {
    mailbox.counters.messages_received.AddRelaxedOwner(1);
    on_message(*message);
  }
  SmallMessage small;
  while (mailbox.small.TryPop(small)) {
    mailbox.counters.messages_received.AddRelaxedOwner(1);
    on_small(small);
  }
}

#if defined(LICHEN_HOST)
void ResetMailboxesForSimulation();
#endif

}  // namespace lichen::smp
