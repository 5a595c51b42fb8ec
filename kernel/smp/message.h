// What CPUs say to each other.
//
// A CPU never touches another CPU's scheduler state; it sends a message and the owner acts.
// Two kinds of carrier, both lock-free, both in the receiver's Mailbox (kernel/cpu.h):
//   - Message: an intrusive node embedded in the thing being sent (every Task has one, a
//     CallRequest lives on its caller's stack), pushed onto an MPSC list. Sending a task can
//     therefore never fail and never allocate.
//   - SmallMessage: a few words copied into a bounded ring, for requests that carry no
//     object (steal requests and their refusals). Each CPU has at most one steal request in
//     flight, so a ring with kMaxCpus slots per receiver can never overflow.
#pragma once

#include <cstdint>

#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/mpsc.h"
#include "lib/ring.h"

namespace lichen {
struct Task;
}

namespace lichen::smp {

enum class MessageKind : uint8_t {
  kTask,  // enqueue the Task that embeds this message (spawn, wake, migration, steal reply)
  kCall,  // run CallRequest::fn on the receiving CPU, then set CallRequest::done
};

struct Message {
  MpscNode node;
  MessageKind kind = MessageKind::kTask;
};

// A function to run on another CPU with IRQs masked (queries, owner-side updates). Lives on
// the caller's stack; the caller waits for `done`.
struct CallRequest {
  Message msg{{}, MessageKind::kCall};
  void (*fn)(void* arg) = nullptr;
  void* arg = nullptr;
  Task* waiter = nullptr;  // woken once `done` is set
  Atomic<bool> done{false};
};

enum class SmallKind : uint8_t {
  kStealRequest,  // `from` is idle: give it a task if you can spare one
  kStealNack,     // reply: nothing to give; `arg` = the sender's enqueue generation
  kReschedule,    // reschedule at the next safe point
};

struct SmallMessage {
  SmallKind kind;
  uint32_t from;
  uint64_t arg;
};

// One CPU's mailbox. Anyone may push; only the owner drains.
struct Mailbox {
  MpscList<Message, &Message::node> inbox;
  BoundedRing<SmallMessage, kMaxCpus * 2> small;
  // Set by the first sender of a burst (who then sends the IPI), cleared by the owner just
  // before it drains: one IPI per burst, not per message.
  Atomic<bool> ipi_pending{false};
};

}  // namespace lichen::smp
