// One CPU's state, split by who may touch it.
//
// CpuLocal is the owner's: the run queue, the current task, the timer queue. Only its own
// CPU reaches it, through PerCpu<CpuLocal>::Borrow with IRQs masked (kernel/base/percpu.h).
//
// CpuShared is what other CPUs may use: the mailbox they send messages to, and published
// copies of the owner's numbers (run-queue length and load, counters), each an atomic that
// the owner writes and anyone reads. Nothing in CpuShared lets another CPU change the
// owner's scheduling state; it can only ask, by message.
#pragma once

#include <cstdint>

#include "kernel/base/percpu.h"
#include "kernel/sched/eevdf.h"
#include "kernel/sched/timer_event.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"

namespace lichen {

struct Task;

// Per-CPU event counters. Each is written only by its own CPU (relaxed), read by anyone.
struct CpuCounters {
  Atomic<uint64_t> context_switches{0};
  Atomic<uint64_t> tasks_run{0};       // distinct switches into a non-idle task
  Atomic<uint64_t> steals{0};          // tasks this CPU obtained by asking
  Atomic<uint64_t> steal_requests{0};  // requests this CPU sent
  Atomic<uint64_t> migrations_in{0};   // tasks that arrived from another CPU
  Atomic<uint64_t> migrations_out{0};  // tasks this CPU gave away (steal or balance)
  Atomic<uint64_t> preemptions{0};     // involuntary switches (slice expiry, wakeup)
  Atomic<uint64_t> wakeups{0};         // tasks enqueued here after a sleep
  Atomic<uint64_t> idle_ns{0};         // time spent waiting for interrupts
  Atomic<uint64_t> timer_interrupts{0};
};

// A plain copy of one CPU's counters, for reports (the simulator's results, the kernel's
// demonstration table).
struct CpuCounterSnapshot {
  uint64_t context_switches = 0;
  uint64_t tasks_run = 0;
  uint64_t ipis_sent = 0;
  uint64_t ipis_received = 0;
  uint64_t messages = 0;
  uint64_t steals = 0;
  uint64_t steal_requests = 0;
  uint64_t migrations_in = 0;
  uint64_t migrations_out = 0;
  uint64_t preemptions = 0;
  uint64_t wakeups = 0;
  uint64_t idle_ns = 0;
  uint64_t timer_interrupts = 0;
};

struct alignas(64) CpuShared {
  // Published copies of the owner's run-queue state.
  Atomic<uint32_t> nr_running{0};  // queued + running tasks, idle task excluded
  Atomic<uint64_t> load{0};        // sum of their weights
  // Tasks posted to this CPU's mailbox and not yet enqueued, and their weight: added by the
  // senders, subtracted by the owner, so that placement sees work in flight and a burst of
  // spawns does not pile onto one CPU whose published numbers lag behind.
  Atomic<uint32_t> incoming_tasks{0};
  Atomic<uint64_t> incoming_load{0};
  Atomic<uint64_t> enqueue_generation{0};    // bumped on every enqueue (steal retry hysteresis)
  Atomic<uint64_t> oldest_wait_start_ns{0};  // when the longest-waiting queued task began
                                             // waiting; 0 when none waits
  Atomic<uint64_t> last_decision_ns{0};      // last pick / slice-expiry / wakeup-preemption check
  // Host debug builds: the union of the waiting tasks' affinity masks (which CPUs could take
  // some of this CPU's waiting work), for the simulator's idle-beside-waiting-work invariant.
  Atomic<uint64_t> waiting_affinity{0};
  // Host debug builds: when this CPU's earliest timer event is due (time::kNever: none), for
  // the simulator's late-timer invariant.
  Atomic<uint64_t> next_timer_ns{~uint64_t{0}};
  Atomic<bool> idle{false};      // in the idle loop, waiting for interrupts
  Atomic<bool> stealing{false};  // a steal request is in flight (idle, but work is coming)
  Atomic<bool> online{false};
  Atomic<uint64_t> current_task_id{0};    // for diagnostics and watchdogs
  Atomic<uint64_t> worst_lateness_ns{0};  // published copy of CpuLocal::worst_lateness_ns
  CpuCounters counters;
};

struct CpuLocal {
  uint32_t id = 0;
  bool initialized = false;

  // ---- Scheduler ----
  sched::RunQueue rq;
  Task* current = nullptr;
  Task* idle = nullptr;
  // The task this CPU just switched away from, and whether it left the run queue (blocked or
  // exited) rather than being preempted; FinishSwitch() settles its state.
  Task* switch_from = nullptr;
  bool switch_from_dequeued = false;
  // It left the queue because its affinity no longer allows this CPU: FinishSwitch sends it on.
  bool switch_from_migrating = false;
  // Set when the current task should give up the CPU at the next safe point.
  bool need_resched = false;
  uint64_t resched_requested_ns = 0;  // when need_resched was set
  // The slice-expiry event of whatever task runs here: always on this CPU.
  sched::TimerEvent slice_timer{nullptr};
  // The periodic balance, armed while more than one task is runnable here.
  sched::TimerEvent balance_timer{nullptr};
  // Work stealing: at most one request in flight.
  bool steal_outstanding = false;
  uint32_t steal_victim = 0;
  // Victim's enqueue generation when it last refused; ask again only after it changed.
  uint64_t steal_refused_generation[kMaxCpus] = {};
  bool steal_refused[kMaxCpus] = {};

  // ---- Time ----
  time::TimerQueue<sched::TimerEvent> timers;
  uint64_t armed_deadline_ns = time::kNever;  // what the hardware timer is armed for
  // The latest a timer interrupt or slice expiry has been handled after it was due. On a real
  // (or emulated) machine interrupts come late -- a vCPU descheduled by the host, a handler
  // spinning on a lock -- and the running task is charged that time: the EEVDF lag check
  // widens its bound by it.
  uint64_t worst_lateness_ns = 0;
  uint64_t stay_lateness_ns = 0;  // lateness charged to the current task since it switched in
  uint64_t idle_since_ns = 0;
};

// This CPU's private state. Requires masked IRQs; see PerCpu.
PerCpu<CpuLocal>::Ref ThisCpuLocal(IrqsOff irqs_off) TA_REQ(g_irqs_off);

// Any CPU's shared state.
CpuShared& Shared(uint32_t cpu);

// A copy of `cpu`'s counters (each read on its own: not one atomic snapshot).
CpuCounterSnapshot SnapshotCounters(uint32_t cpu);

// The CPUs whose scheduler is running (they can take tasks). It grows during boot, as each
// CPU finishes its InitThisCpu, up to FirstN(platform::CpuCount()), and is fixed after.
CpuMask OnlineCpus();
// Boot: marks `cpu` online (its scheduler is ready to receive tasks).
void MarkCpuOnline(uint32_t cpu);

}  // namespace lichen
