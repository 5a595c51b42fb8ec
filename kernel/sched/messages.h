// What the scheduler says to other CPUs' schedulers, over the messenger (kernel/smp).
//
// The messenger only carries; the kinds below, the senders (this file's Post* functions) and
// the handler (HandleMessages, messages.cc) are all the scheduler's, so everything that acts
// on a CPU's scheduler state from a message runs in that CPU's scheduler code.
#pragma once

#include <cstdint>

#include "kernel/smp/message.h"
#include "lib/atomic.h"

namespace lichen {
struct Task;
}

namespace lichen::sched {

// Carried in smp::Message::kind.
enum class MessageKind : uint8_t {
  kTask,  // enqueue the Task that embeds this message (spawn, wake, migration, steal reply)
  kCall,  // run CallRequest::fn on the receiving CPU, then set CallRequest::done
};

// Carried in smp::SmallMessage::kind. Each CPU has at most one steal request in flight and
// each request gets at most one refusal, so a receiver's ring (2 * kMaxCpus) never fills.
enum class SmallKind : uint8_t {
  kStealRequest,  // `from` is idle: give it a task if you can spare one
  kStealNack,     // reply: nothing to give; `arg` = the sender's enqueue generation
};

// A CallOn() in flight: on the caller's stack until `done`.
struct CallRequest {
  smp::Message msg{{}, static_cast<uint8_t>(MessageKind::kCall)};
  void (*fn)(void* arg) = nullptr;
  void* arg = nullptr;
  Task* waiter = nullptr;  // woken once `done` is set
  Atomic<bool> done{false};
  // Set by the handler after its Wake(waiter): from then on it touches neither the request
  // nor the waiter. The caller may see `done` before that Wake() and return; it waits for
  // this flag first, or the Wake() would land in its next sleep (as WaitTimer::finished).
  Atomic<bool> finished{false};
};

// Sends `task` (kRunnable, task.cpu == cpu, task.transit set) to `cpu`'s run queue. Never
// fails, never allocates.
void PostTask(uint32_t cpu, Task& task);

// Sends a steal request or refusal.
void PostSmall(uint32_t cpu, SmallKind kind, uint32_t from, uint64_t arg);

}  // namespace lichen::sched
