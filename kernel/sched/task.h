// Task: a kernel thread and its scheduling state.
//
// The state machine (TaskState) is what makes lost wakeups impossible. A task that wants to
// sleep first announces it (kRunning -> kBlocking) while still running, re-checks its
// condition, and only then calls into the scheduler. A waker that finds kBlocking turns it
// into kWokenWhileRunning and is done: the scheduler will not put the task to sleep. Only
// after the task's CPU has completely switched away from it (its registers saved) does the
// CPU turn kBlocking into kSleeping; from then on a waker that wins the kSleeping -> kRunnable
// compare-exchange owns the task and sends it to a CPU's mailbox. Exactly one waker wins, so
// a task is never enqueued twice, and no CPU can start a task whose context is still being
// saved elsewhere.
//
// The transitions, and who makes each:
//   kRunnable -> kRunning              picked by its CPU
//   kRunning -> kRunnable              preempted
//   kRunning -> kBlocking              PrepareToBlock(), by the task itself
//   kBlocking -> kRunning              CancelBlock(): the condition came true after all
//   kBlocking -> kWokenWhileRunning    Wake() before the task was switched out
//   kWokenWhileRunning -> kRunning     Block() returns without sleeping
//   kWokenWhileRunning -> kRunnable    its CPU, if the wake came while it was switching out
//   kBlocking -> kSleeping             its CPU, once Block() has switched it out
//   kSleeping -> kRunnable             Wake(): the compare-exchange winner enqueues it
//   kRunning -> kExiting -> kExited    Exit(); kExited once switched out (joinable, reclaimable)
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/base/platform.h"
#include "kernel/lock/spinlock.h"
#include "kernel/sched/eevdf.h"
#include "kernel/smp/message.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/list.h"

namespace lichen {

// The lock class of every Task::join_lock (defined in scheduler.cc).
extern LockClass g_task_join_class;

enum class TaskState : uint8_t {
  kRunnable,           // on a run queue, or in a mailbox on its way to one
  kRunning,            // current on its CPU
  kBlocking,           // current, and has announced it will sleep
  kWokenWhileRunning,  // was kBlocking when a wakeup came: it will not sleep
  kSleeping,           // switched out, on no queue; a Wake() makes it kRunnable
  kExiting,            // current, and has called Exit()
  kExited,             // switched out for good; Join() returns
};

// Printable name of a state ("running", ...).
const char* TaskStateName(TaskState state);

// Why a task is travelling to a CPU: tells the receiver how to place it (EEVDF flags).
enum class Transit : uint8_t {
  kNew,       // spawned
  kWakeup,    // woken from sleep
  kMigrated,  // pushed by the periodic balance
  kStolen,    // handed to an idle CPU that asked for work
};

struct Task {
  using Entry = void (*)(void* arg);

  // ---- Identity (immutable after spawn) ----
  uint64_t id = 0;
  char name[24] = {};
  Entry entry = nullptr;
  void* arg = nullptr;
  // CPUs the task may run on. Written by the CPU that owns the task (sched::SetAffinity),
  // read by anyone placing it (wakers, thieves): hence atomic.
  Atomic<uint64_t> affinity_bits{~uint64_t{0}};
  CpuMask Affinity() const { return CpuMask(affinity_bits.Load(std::memory_order_relaxed)); }
  // Idle tasks are per-CPU, never queued, never migrated.
  bool is_idle = false;
  // Nobody will Join(): the CPU that switches away from it for the last time frees it.
  bool detached = false;

  // ---- Scheduling ----
  // EEVDF state. Touched only by the CPU that owns the task (see `cpu`).
  sched::SchedEntity se;
  // The state machine above. Changed by compare-exchange where wakers race.
  Atomic<TaskState> state{TaskState::kRunnable};
  // The CPU that owns the task: the one running it, queueing it, or about to receive it; for
  // a sleeping task, the CPU it last ran on. Written by the sender before a mailbox push
  // (the push publishes it), read by anyone (placement, the registry).
  Atomic<uint32_t> cpu{0};
  // Set by the sender before the mailbox push, read by the receiver after the pop.
  Transit transit = Transit::kNew;
  // The mailbox node that carries the task between CPUs. A task is in at most one mailbox.
  smp::Message message;
  // When the task last became runnable (wake-to-run latency) and last migrated (balance
  // hysteresis), in ns.
  uint64_t runnable_since_ns = 0;
  uint64_t last_migrated_ns = 0;

  // ---- Execution context ----
  platform::Context context;
  void* stack = nullptr;
  size_t stack_size = 0;

  // ---- Waiting (kernel/sched/wait.h) ----
  // An interruption was requested (sched::Interrupt) and not yet consumed (ClearInterrupt).
  Atomic<bool> interrupt_pending{false};
  // Whether Interrupt() may wake the task: kNotInterruptible, kInterruptible (in an
  // interruptible sched::Wait) or kBeingInterrupted (an Interrupt() is waking it right now;
  // the waiter does not leave the wait before that wake is done).
  static constexpr uint8_t kNotInterruptible = 0;
  static constexpr uint8_t kInterruptible = 1;
  static constexpr uint8_t kBeingInterrupted = 2;
  Atomic<uint8_t> interruptible_wait{kNotInterruptible};

  // ---- Lifetime ----
  // The join handshake (sched::Join). `exit_done`: the task has exited and no CPU uses its
  // stack any more; `joiner`: who waits for that. The exiting CPU sets exit_done and wakes
  // the joiner inside join_lock, and the joiner reads exit_done inside it, so the joiner
  // cannot return and free the task (or exit itself) before that wake is over.
  SpinLock join_lock{g_task_join_class};
  bool exit_done TA_GUARDED(join_lock) = false;
  Task* joiner TA_GUARDED(join_lock) = nullptr;
  // Link in the global task registry (kernel/sched/registry.h), under the registry's lock.
  ListNode registry_node;
  // The sleeping locks (Mutex) this task holds, for lockdep: they stay with the task across
  // switches and migrations, unlike spinlocks, which are the CPU's (lockdep::SwitchTask).
  lockdep::TaskLocks held_locks;

  // Nice level asked for by sched::SetNice from any CPU; the owning CPU applies it (reweight)
  // when it next holds the task: at once if the task is queued or running, at its next
  // enqueue if it sleeps.
  Atomic<int32_t> requested_nice{0};
  // Slice asked for by sched::SetSliceNs (clamped; 0: the base slice). The task's CPU applies
  // it when the task next becomes current (an entity waiting in a queue's tree cannot change
  // its slice).
  Atomic<uint64_t> requested_slice_ns{0};

  // ---- Published for the registry and diagnostics (owner writes, anyone reads) ----
  Atomic<uint64_t> published_runtime_ns{0};
  Atomic<int32_t> published_nice{0};
  Atomic<uint64_t> published_switches{0};

  // ---- User space ----
  // The user thread this task runs (kernel/proc's proc::Thread), or null for a kernel task.
  // Opaque to the scheduler: it only calls the switch hook (sched::SetSwitchHook) when prev
  // or next has one. Set before the task is spawned, never changed.
  void* user = nullptr;

  // ---- Debug: detects a task queued or running on two CPUs at once ----
  Atomic<uint32_t> debug_queued_on{kNotOnCpu};
  Atomic<uint32_t> debug_running_on{kNotOnCpu};
  // Host debug builds: the flag a lock-free sleeper waits for (CallOn's done, a wait's deadline),
  // for the simulator's asleep-beside-its-flag invariant; null when it waits for none.
  Atomic<const Atomic<bool>*> debug_wait_flag{nullptr};
  static constexpr uint32_t kNotOnCpu = ~0u;
};

// The Task that embeds `se`.
Task& TaskOf(sched::SchedEntity& se);

}  // namespace lichen
