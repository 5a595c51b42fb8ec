// The scheduler's API: what tasks, interrupt handlers and the boot code call.
//
// Each CPU schedules its own run queue and nobody else's. Everything that crosses CPUs --
// placing a new task, waking a sleeping one, stealing, balancing -- travels as a message to
// the owning CPU's mailbox (kernel/smp/messenger.h), which kicks that CPU out of idle with
// one IPI per burst. No lock is held across a context switch.
#pragma once

#include <cstdint>

#include "kernel/base/irq_state.h"
#include "kernel/sched/config.h"
#include "kernel/sched/task.h"
#include "lib/cpumask.h"
#include "lib/result.h"

namespace lichen::sched {

// ---- Tasks -----------------------------------------------------------------------------------

struct SpawnOptions {
  const char* name = "task";
  Task::Entry entry = nullptr;
  void* arg = nullptr;
  int nice = 0;
  uint64_t slice_ns = 0;  // 0: the base slice
  CpuMask affinity = CpuMask::FirstN(kMaxCpus);
  bool detached = false;  // nobody will Join(); freed when it exits
  size_t stack_size = 0;  // 0: kDefaultStackSize
  void* user = nullptr;   // Task::user: set before the task can first be switched in
};

inline constexpr size_t kDefaultStackSize = 16 * 1024;

// Creates a task and sends it to the CPU the placement policy picks. The Task and its stack
// come from the kernel heap and page allocator; kNoMemory if they are exhausted.
Result<Task*> Spawn(const SpawnOptions& options);

// Waits until `task` has exited, then frees it. Each non-detached task is joined exactly once.
void Join(Task* task);

// The calling task.
Task* Current();

// CPU time the calling task has received so far (charged up to now), in ns.
uint64_t CurrentRuntimeNs();

// The latest any timer interrupt or slice decision has come on `cpu` since boot: time the
// machine took (a vCPU descheduled by the host) and charged to whichever task was running.
// Share checks widen their tolerance by it.
uint64_t WorstLatenessNs(uint32_t cpu);

// Leaves the calling task. Never returns.
[[noreturn]] void Exit();

// Gives up the CPU; the task stays runnable (EEVDF decides whether another task goes first).
void Yield();

// Sleeps for `ns` / until `deadline_ns` on the monotonic clock.
void SleepFor(uint64_t ns);
void SleepUntil(uint64_t deadline_ns);

// Changes a task's nice level (clamped to -20..19). The task's owning CPU applies it (by
// message when that is another CPU): at once if the task is queued or running, at its next
// wakeup if it sleeps.
void SetNice(Task* task, int nice);

// Sets a task's requested slice (sched_setattr's sched_runtime, as Linux 6.12 uses it for
// fair tasks), clamped to the EEVDF bounds; 0 goes back to the base slice. It takes effect
// at once for the calling task, otherwise when the task next becomes current on its CPU; the
// entity uses it from its next deadline. For user threads (Task::user set): kernel tasks
// choose their slice at Spawn.
void SetSliceNs(Task* task, uint64_t slice_ns);

// Restricts a task to `affinity`. A queued task that may no longer stay on its CPU moves at
// once, a running one when it is next switched out, a sleeping one when it wakes.
// kInvalidArgument if no online CPU is allowed, or for an idle task.
Result<void> SetAffinity(Task* task, CpuMask affinity);

// ---- Blocking protocol (see task.h) ------------------------------------------------------------

// Announces that the calling task is about to sleep: call it, re-check the condition, then
// Block(). A Wake() anywhere after PrepareToBlock() is not lost.
void PrepareToBlock();
// The condition came true after PrepareToBlock(): stay running after all.
void CancelBlock();
// Sleeps until a Wake(), unless one already came after PrepareToBlock().
void Block();
// Makes a sleeping (or about-to-sleep) task runnable. Safe from any CPU, task or interrupt
// context. Returns true if this call was the one that woke it.
bool Wake(Task* task);

// Debug builds on the host: `task` is about to sleep until `flag` is set by a waker that then
// calls Wake(), with no lock in between (CallOn, SleepUntil); null when the wait is over. The
// simulator fails a run in which the task sleeps while the flag is set (a lost wakeup).
void DebugNoteWaitFlag(Task& task, const Atomic<bool>* flag);

// ---- User space ------------------------------------------------------------------------------

// Called on every context switch where `prev` or `next` has Task::user set, on the switching
// CPU with IRQs masked, after the switch is decided and before SwitchContext: the process
// layer switches the CPU's address space and user register state there (kernel/proc). It must
// not sleep or take a lock that is held across a sleep.
using SwitchHook = void (*)(Task* prev, Task* next);
// Installs the hook (once, at boot, before any user task exists); nullptr removes it.
void SetSwitchHook(SwitchHook hook);

// ---- Called by the core itself (interrupt paths, idle, boot) ---------------------------------

// Reschedules this CPU now: picks the next task by EEVDF and switches to it.
void Schedule();
// Reschedule if the current task was asked to give up the CPU (safe points).
void PreemptPoint();

// Boot: per-CPU scheduler state for this CPU, adopting the running context as its idle task.
// The base slice scales with platform::CpuCount(), the machine's CPUs.
void InitCpu(uint32_t cpu);
// The idle loop of this CPU. Never returns.
[[noreturn]] void IdleLoop();

// Runs `fn(arg)` on `cpu` with IRQs masked and waits (sleeping) until it has run. Task
// context only; `cpu` must not be this CPU.
void CallOn(uint32_t cpu, void (*fn)(void* arg), void* arg);

// Interrupt-side hooks (kernel/irq.cc).
void OnTimerInterrupt(IrqsOff irqs_off) TA_REQ(g_irqs_off);
// The messenger's IPI: handle everything in this CPU's mailbox (kernel/sched/messages.cc).
void HandleMessages(IrqsOff irqs_off) TA_REQ(g_irqs_off);
// Interrupt exit: switch if a reschedule is pending and the interrupted context allows it.
void OnInterruptExit(IrqsOff irqs_off) TA_REQ(g_irqs_off);

}  // namespace lichen::sched
