// The messenger: how one CPU asks another to do something.
//
// Each CPU has a mailbox (kernel/cpu.h, CpuShared::mailbox): a lock-free MPSC list of
// intrusive messages and a bounded ring of small ones. A sender pushes, then sends the IPI
// only if it is the first sender since the owner last drained (Mailbox::ipi_pending): a
// burst of messages costs one IPI. The owner drains the whole mailbox in its IPI handler
// (and in its idle loop) and acts on each message itself, so its scheduler state never has
// a second writer. Sending to this CPU never goes through here: callers take the local fast
// path (see sched::SendToCpu).
#pragma once

#include <cstdint>

#include "kernel/smp/message.h"
#include "kernel/sync/irq.h"
#include "kernel/trace.h"

namespace lichen {
struct Task;
}

namespace lichen::smp {

// Sends `task` (kRunnable, task.cpu == cpu, task.transit set) to `cpu`'s run queue. Never
// fails, never allocates.
void PostTask(uint32_t cpu, Task& task);

// Sends a small message to `cpu`. The ring is sized so that this cannot fail (each CPU has
// at most one request in flight per kind); a full ring is a bug and panics.
void PostSmall(uint32_t cpu, const SmallMessage& message);

// Runs `fn(arg)` on `cpu` with IRQs masked and waits (sleeping) until it has run. Task
// context only; `cpu` must not be this CPU.
void CallOn(uint32_t cpu, void (*fn)(void* arg), void* arg);

// Sends the IPI to `cpu` unless one is already on its way; `why` only labels it in the trace.
void Kick(uint32_t cpu, trace::IpiKind why);

// The owner: takes everything in this CPU's mailbox and handles it.
void Drain(IrqsOff irqs_off) TA_REQ(g_irqs_off);

}  // namespace lichen::smp
