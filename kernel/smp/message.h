// The carriers CPUs talk with, and the mailbox each CPU receives them in.
//
// A CPU never touches another CPU's scheduler state; it sends a message and the owner acts.
// This part is transport only: it moves messages and IPIs and knows nothing of what they
// mean. The `kind` bytes are the receiver's vocabulary (the scheduler's,
// kernel/sched/messages.h). Two carriers, both lock-free:
//   - Message: an intrusive node embedded in the thing being sent (every Task has one, a
//     call request lives on its caller's stack), pushed onto an MPSC list. Sending one can
//     therefore never fail and never allocate.
//   - SmallMessage: a few words copied into a bounded ring, for requests that carry no
//     object (steal requests and their refusals). The ring has 2 * kMaxCpus slots; senders
//     keep at most that many in flight to one receiver (the scheduler: one steal request
//     per CPU, one refusal per request).
#pragma once

#include <cstdint>

#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/mpsc.h"
#include "lib/ring.h"

namespace lichen::smp {

struct Message {
  MpscNode node;
  uint8_t kind = 0;  // the receiver's message kind
};

using Inbox = MpscList<Message, &Message::node>;

struct SmallMessage {
  uint8_t kind;  // the receiver's small-message kind
  uint32_t from;
  uint64_t arg;
};

// Counted by the transport, read by anyone (relaxed).
struct MailboxCounters {
  Atomic<uint64_t> ipis_sent{0};          // by this CPU
  Atomic<uint64_t> ipis_received{0};      // by this CPU
  Atomic<uint64_t> messages_received{0};  // both carriers
};

struct alignas(64) Mailbox {
  Inbox inbox;
  BoundedRing<SmallMessage, kMaxCpus * 2> small;
  // Set by the first sender since the owner last drained; that sender sends the IPI.
  Atomic<bool> ipi_pending{false};
  MailboxCounters counters;
};

}  // namespace lichen::smp
