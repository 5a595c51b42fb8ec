#include "kernel/smp/messenger.h"

#include "kernel/smp/orders.h"
#include "lib/no_destroy.h"

namespace lichen::smp {

namespace {
NoDestroy<Mailbox[kMaxCpus]> g_mailboxes;
}  // namespace

Mailbox& MailboxOf(uint32_t cpu) {
  LICHEN_DEBUG_ASSERT(cpu < kMaxCpus, "cpu {} out of range", cpu);
  return (*g_mailboxes)[cpu];
}

void Kick(uint32_t cpu, trace::IpiKind why) {
  Mailbox& mailbox = MailboxOf(cpu);
  if (LICHEN_FAULT(preemptible_kick)) {
    if (mailbox.ipi_pending.Exchange(true, std::memory_order_seq_cst)) return;
    {
      IrqGuard guard;
      MailboxOf(platform::ThisCpu()).counters.ipis_sent.AddRelaxedOwner(1);
    }  // the bug: an interrupt here may preempt the sender before its IPI goes out
    platform::SendIpi(CpuMask::Single(cpu));
    return;
  }
  // IRQs masked from setting the flag to sending the IPI: once the flag is set, no other
  // sender sends one, so a sender preempted in between (a task calling CallOn or Wake) would
  // leave every message to this CPU waiting until it runs again. Found by the simulator's
  // message-waiting-with-no-IPI invariant.
  IrqGuard guard;
  // seq_cst pairs with the owner's seq_cst clear before it drains (TakeInbox): either the
  // owner's drain sees our message, or we see the flag clear and send a fresh IPI.
  if (mailbox.ipi_pending.Exchange(true, orders::kSetIpiPending)) return;
  const uint32_t self = platform::ThisCpu();
  MailboxOf(self).counters.ipis_sent.AddRelaxedOwner(1);
  trace::Record(self, trace::Kind::kIpiSent, cpu, 0, static_cast<uint8_t>(why));
  platform::SendIpi(CpuMask::Single(cpu));
}

void Push(uint32_t cpu, Message& message) {
  MailboxOf(cpu).inbox.Push(message);
}

void Post(uint32_t cpu, Message& message, trace::IpiKind why) {
  Push(cpu, message);
  Kick(cpu, why);
}

void PostSmall(uint32_t cpu, const SmallMessage& message, trace::IpiKind why) {
  LICHEN_ASSERT(MailboxOf(cpu).small.TryPush(message), "CPU {}'s small-message ring is full", cpu);
  Kick(cpu, why);
}

void NoteIpiReceived(IrqsOff) {
  const uint32_t self = platform::ThisCpu();
  MailboxOf(self).counters.ipis_received.AddRelaxedOwner(1);
  trace::Record(self, trace::Kind::kIpiReceived, 0, 0);
}

Inbox::Batch TakeInbox(IrqsOff) {
  Mailbox& mailbox = MailboxOf(platform::ThisCpu());
  // Clear before taking (see Kick): cleared after, a message pushed between the take and the
  // clear finds the flag set, sends no IPI, and waits for whenever this CPU drains again.
  if (!LICHEN_FAULT(ipi_clear_after_drain)) {
    mailbox.ipi_pending.Store(false, LICHEN_FAULT(relaxed_ipi_clear) ? std::memory_order_release
                                                                     : orders::kClearIpiPending);
  }
  auto batch = mailbox.inbox.TakeAll();
  if (LICHEN_FAULT(ipi_clear_after_drain)) {
    mailbox.ipi_pending.Store(false, std::memory_order_seq_cst);
  }
  return batch;
}

#if defined(LICHEN_HOST)
void ResetMailboxesForSimulation() {
  g_mailboxes.Reset();
}
#endif

}  // namespace lichen::smp
