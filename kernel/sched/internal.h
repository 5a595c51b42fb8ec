// Scheduler internals shared by the files of kernel/sched/. Each file answers one question:
//   switch.cc     Which task runs next, and how does the CPU change to it? (ScheduleLocked)
//   block.cc      How does a task sleep without missing its wakeup? (PrepareToBlock, Wake)
//   runqueue.cc   How does a task get onto a CPU's queue, or off it to another CPU?
//   lifecycle.cc  How is a task created, and how does it end and get freed?
//   requests.cc   How does a new nice level or affinity reach the CPU that owns the task?
//   timers.cc     When does this CPU's timer fire, and what runs then? (slice expiry)
//   lateness.cc   How late did decisions come, and does the lag bound allow for it?
//   idle.cc       How does a CPU join the scheduler, and what does it do with nothing to run?
//   placement.cc  Which CPU does a new or woken task go to?
//   balance.cc    When do queued tasks move between CPUs? (stealing, balancing)
//   messages.cc   What do other CPUs ask of this one, and how? (HandleMessages, CallOn)
//   eevdf.cc      The run queue itself: which queued task is owed the CPU? (EEVDF)
//   wait.cc       The one blocking loop: wait for a condition, a deadline or interruption.
// Beside them: stats.cc (wake-to-run latency), registry.cc (every task, listable), config.cc,
// faults.cc (the naive designs the fault switches of kernel/base/debug.h bring back).
//
// Everything here runs on the CPU that owns `cpu`, with IRQs masked.
#pragma once

#include <cstdint>

#include "kernel/base/irq_state.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/task.h"

namespace lichen::sched {

// Copies the run queue's length, load and oldest waiter to the CPU's published atomics.
void Publish(CpuLocal& cpu);
// Arms the hardware timer for the earliest timer event, or disarms it (tickless idle).
void ProgramTimer(CpuLocal& cpu);
// (Re)arms the running task's slice-expiry event on this CPU's timer queue.
void ArmSliceTimer(CpuLocal& cpu, uint64_t now_ns);
// The slice-expiry event's callback: asks for a switch if EEVDF now picks another task.
void OnSliceTimer(sched::TimerEvent& event, CpuLocal& cpu);
// Adds a kRunnable task whose `cpu` is this CPU to the run queue, placing it by its
// `transit`, and decides wakeup preemption.
void EnqueueLocal(CpuLocal& cpu, Task& task, uint64_t now_ns);
// Takes a queued, not running task off this CPU and sends it to `target`.
void MigrateOut(CpuLocal& cpu, Task& task, uint32_t target, Transit why, uint64_t now_ns);
// Sends a task this CPU has already dequeued (kDequeueMigrate) to `target`.
void SendAway(CpuLocal& cpu, Task& task, uint32_t target, Transit why, uint64_t now_ns);
// Sends a kRunnable task that no CPU owns yet to the CPU chosen by the placement policy.
void SendToCpu(Task& task, Transit why);
// Debug builds: records that `task` is now queued on `cpu` / no longer queued there, and
// panics if it was queued elsewhere (a task is on one run queue at most).
void DebugNoteQueued(Task& task, uint32_t cpu);
void DebugNoteDequeued(Task& task, uint32_t cpu);
// The placement policy: which CPU gets `task`. Reads only published per-CPU state.
uint32_t SelectCpu(const Task& task, Transit why, uint32_t this_cpu);

// Why ScheduleLocked runs. A preemption never puts the current task to sleep, even if it
// has announced it is about to block (kBlocking): it was interrupted between
// PrepareToBlock() and Block(), stays queued, and blocks (or not) when it gets to Block().
enum class SwitchReason : uint8_t {
  kVoluntary,  // Block(), Yield(), Exit(), the idle loop
  kPreempt,    // return from interrupt, PreemptPoint()
};

// Frees a task that no CPU uses any more (exited and switched away from for good).
void FreeTask(Task* task);
#if defined(LICHEN_HOST)
// Restarts task ids at 1 (ResetForSimulation, between simulator runs).
void ResetTaskIdsForSimulation();
#endif

// Switches to the best task by EEVDF (maybe the current one). IRQs masked, no lock held.
void ScheduleLocked(IrqsOff irqs_off, SwitchReason reason) TA_REQ(g_irqs_off);
// Settles the task this CPU just switched away from. Runs first after every switch.
void FinishSwitch(IrqsOff irqs_off) TA_REQ(g_irqs_off);

// Balancing (balance.cc).
void MaybeSteal(CpuLocal& cpu);
// Message handlers (HandleMessages, messages.cc), on the receiving CPU.
void ReceiveTask(Task& task, IrqsOff irqs_off) TA_REQ(g_irqs_off);
void OnStealRequest(uint32_t from, IrqsOff irqs_off) TA_REQ(g_irqs_off);
void OnStealRefused(uint32_t victim, uint64_t generation, IrqsOff irqs_off) TA_REQ(g_irqs_off);
// Wakes one idle CPU among `allowed` (an IPI, no message): its idle loop then tries to steal.
void KickIdleCpu(CpuLocal& cpu, CpuMask allowed);
void ArmBalanceTimer(CpuLocal& cpu, uint64_t now_ns);
void OnBalanceTimer(sched::TimerEvent& event, CpuLocal& cpu);

// Publishes that this CPU just decided who runs (the simulator checks that a CPU with
// several runnable tasks keeps deciding), and in debug builds checks the EEVDF lag bounds.
void NoteSchedulingDecision(CpuLocal& cpu, uint64_t now_ns);
void CheckLagBounds(CpuLocal& cpu);
// Records that a timer or slice decision came `late_ns` after it was due (widens the lag bound).
void NoteLateness(CpuLocal& cpu, uint64_t late_ns);
// Notes the lateness of what is overdue on this CPU at now_ns: its slice expiry, or a
// requested preemption not yet carried out.
void NoteOverdue(CpuLocal& cpu, uint64_t now_ns);
// Asks this CPU to reschedule at the next safe point, remembering when (the first request
// counts), so that ScheduleLocked can note how late the preemption came.
void SetNeedResched(CpuLocal& cpu, uint64_t now_ns);
#if defined(LICHEN_HOST)
// Forgets the worst lateness seen (ResetForSimulation, between simulator runs).
void ResetLatenessForSimulation();
#endif

// Wake-to-run latency statistics (stats.cc): called when `task` is switched in.
void RecordWakeLatency(Task& task, uint64_t now_ns);

// The seed's bugs, re-enabled by kernel/base/debug.h's faults (faults.cc; host builds only).
void ArmGlobalSliceEventForFault(CpuLocal& cpu, uint64_t deadline_ns);
void RunGlobalSliceEventsForFault(CpuLocal& cpu, uint64_t now_ns);
void YieldWithSchedLockForFault(IrqsOff irqs_off) TA_REQ(g_irqs_off);

}  // namespace lichen::sched
