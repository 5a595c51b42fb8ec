// The deterministic multi-CPU simulator.
//
// It runs the real kernel core (kernel/, lib/) on N virtual CPUs inside one host thread.
// Every virtual CPU and every task is a host fiber; time is virtual. The kernel's shared
// memory operations (lichen::Atomic), spinlock spins, IRQ unmasks, mailbox pushes and the
// workloads' Compute() calls are the points where the simulator may stop one CPU and run
// another, or deliver a pending interrupt (timer, IPI). Which CPU runs next is chosen from
// a seeded PRNG with PCT (probabilistic concurrency testing: random CPU priorities lowered
// at a few random change points, which finds ordering bugs of small depth with a known
// probability) or a uniform random walk; the same seed gives the same run, bit for bit.
//
// Time advances when no CPU can run at the current instant (every CPU is computing, halted
// in WFI, or spinning on a lock held elsewhere), and now and then, chosen by the seed, while
// a CPU is in the middle of kernel code (a "time slip", so that interrupts land inside
// kernel code too). The clock jumps to the next event: a compute finishing, a timer deadline,
// an IPI arriving after its randomized latency.
//
// The simulator checks, while it runs, what must always hold:
//   - no CPU sleeps in WFI while its mailbox or run queue holds work and no IPI is on the way
//     (a lost wakeup);
//   - a CPU with several runnable tasks keeps making scheduling decisions (a lost slice
//     expiry lets one task hog the CPU), and every task's EEVDF lag stays bounded (checked by
//     the kernel in debug builds);
//   - no CPU stays idle while another CPU has had a task waiting for longer than the
//     balance bound (stealing and balancing work);
//   - the kernel's own debug checks (a task on two queues or two CPUs, per-CPU state
//     touched by another CPU or with IRQs on, lock-order reports, run-queue invariants)
//     panic, and a panic fails the run with its message;
//   - the run ends: all CPUs idle with unfinished tasks is a hang, all CPUs spinning a
//     deadlock, and a run longer than its step or time budget a livelock.
//   - no message waits in a running CPU's mailbox with no IPI on its way, no kernel timer
//     event has its CPU's timer armed later than it, and no task sleeps while the flag it
//     waits for lock-free is set.
// With Options::weak_memory each CPU also gets a store buffer (see there), so that memory
// orders weaker than sequential consistency are exercised too.
// A failed run reports its seed and how to replay it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "lib/units.h"

namespace lichen::sim {

enum class Strategy : uint8_t { kPct, kRandomWalk };

struct Options {
  uint32_t ncpus = 4;
  uint64_t seed = 1;
  // kPct or kRandomWalk; Auto picks by seed so that a range of seeds covers both.
  bool auto_strategy = true;
  Strategy strategy = Strategy::kPct;
  // PCT depth d: d-1 priority change points.
  uint32_t pct_depth = 3;
  // IPI delivery latency, drawn per IPI uniformly from [min, max].
  uint64_t ipi_latency_min_ns = 200;
  uint64_t ipi_latency_max_ns = 5 * kUs;
  // Time slips: kernel code runs in zero virtual time, so on its own an interrupt could only
  // arrive when every CPU is computing, idle or spinning. At a step where some CPU is in the
  // middle of kernel code, the clock jumps to the next event (timer, IPI arrival, compute end)
  // with probability 1/time_slip_one_in when that event is at most max_time_slip_ns away:
  // interrupts then land at arbitrary points inside kernel code. 0 turns slips off.
  uint32_t time_slip_one_in = 16;
  uint64_t max_time_slip_ns = 20 * kUs;
  // Machine stalls: a hypervisor or host that takes the whole machine away (a vCPU thread
  // descheduled, as under QEMU on a busy host). At a step, with probability 1/stall_one_in,
  // the clock jumps by a uniform 1..max_stall_ns while nothing runs: work in progress
  // (Compute) and IPIs in flight are pushed back by as much, but timer deadlines are not, so
  // every interrupt due meanwhile arrives late and the running tasks are charged for the
  // gap. The no-preemption and idle-balance bounds are widened by the stalls inside their
  // window. 0 turns stalls off (the default).
  uint32_t stall_one_in = 0;
  uint64_t max_stall_ns = 100 * kMs;
  // Weak memory: every virtual CPU gets a store buffer (lib/atomic.h, MemoryModelHooks). A
  // store weaker than seq_cst waits in its CPU's buffer, oldest first, and becomes visible to
  // the others later: at each step each non-empty buffer writes its oldest store with
  // probability 1/store_flush_one_in, and a buffer is emptied by a seq_cst store or fence, a
  // read-modify-write that releases (one that does not empties it only up to its own
  // location), masking IRQs, a context switch, WFI and before time advances. The CPU's own
  // loads see its buffered stores. This is x86-TSO plus release-free read-modify-writes: it
  // shows store-to-load reordering (the Dekker pairs) and a relaxed publishing RMW, which
  // interleaving alone never does. Off by default (it changes every seed's run).
  bool weak_memory = false;
  uint32_t store_flush_one_in = 4;
  // Cost of a context switch, charged to the switching CPU with IRQs masked.
  uint64_t switch_cost_ns = 1 * kUs;
  // Budgets: exceeding either fails the run (livelock). Machine stalls do not count.
  uint64_t max_steps = 200'000'000;
  uint64_t max_time_ns = 120 * kSec;
  // Scheduler policy under test.
  sched::Config sched;
  // Memory handed to the kernel's page allocator.
  size_t memory_bytes = 32u << 20;
  // Invariant bounds. A CPU with two or more runnable tasks must make a scheduling decision
  // (pick, slice expiry, wakeup preemption) at least this often: the running task's slice
  // is at most this long, so a longer gap means a lost preemption event.
  bool check_preemption = true;
  uint64_t preemption_bound_ns = 50 * kMs;
  // A CPU may stay idle while another has a task waiting this long (when stealing or
  // balancing is on). Workloads with pinned tasks turn the check off.
  bool check_idle_balance = true;
  uint64_t idle_balance_bound_ns = 30 * kMs;
  // Affinity-aware and rotation-proof, so on for every workload: a CPU may not stay idle for
  // idle_balance_bound_ns while, all that time, another CPU had waiting tasks of which some
  // may run on it (kernel debug builds publish the waiting tasks' affinity union). EEVDF
  // rotation resets each task's wait, so the check above misses a queue that never empties.
  bool check_idle_beside_waiting = true;
  // No CPU leaves a message in its mailbox with no IPI on the way (halted or running a task:
  // the message would wait for the next time the CPU happens to drain).
  bool check_mailbox_ipi = true;
  // No timer event fires late by mistake: the kernel's earliest event (published in debug
  // builds) always has the CPU's timer armed at or before its deadline.
  bool check_timer_lateness = true;
  // No task sleeps while the flag it waits for (CallOn's done, SleepUntil's timer) is set: a
  // wakeup lost between PrepareToBlock and the waker's look at the task's state.
  bool check_sleeper_flags = true;
  // Lock-order reports panic (and fail the run). Off: they are only counted, so that a test
  // can watch what the bug does when nothing stops it.
  bool lockdep_panics = true;
  // Writes the merged per-CPU trace here when non-empty (always on failure if set).
  std::string trace_path;
  // Name of the workload, for reports.
  std::string workload = "custom";
};

// What stopped a failed run: tests match this, the message is for people. Each invariant of
// the list at the top has its own kind; a kernel panic (any LICHEN_ASSERT, lock-order
// reports, the kernel's own lag and run-queue checks) is kPanic, told apart by its message.
enum class Failure : uint8_t {
  kNone,                // the run passed
  kPanic,               // the kernel (or the simulator's platform code) panicked
  kWorkloadCheck,       // the workload's or the test's own check (sim::Fail)
  kLostWakeup,          // a CPU sleeps in WFI with runnable tasks and no IPI on the way
  kMessageWithoutIpi,   // a message waits in a CPU's mailbox with no IPI on the way
  kSleeperBesideFlag,   // a task sleeps while the flag it waits for is set
  kNoPreemption,        // a CPU with several runnable tasks stopped deciding
  kLateTimer,           // a timer event with its CPU's timer armed later than it
  kIdleBesideWaiting,   // a CPU idles beside waiting tasks that may run on it
  kIdleWhileWorkWaits,  // a CPU idles while a task has waited past the balance bound
  kHang,                // every CPU idle, nothing pending, the workload unfinished
  kDeadlock,            // every runnable CPU spins on a lock
  kStepBudget,          // Options::max_steps exhausted (livelock)
  kTimeBudget,          // Options::max_time_ns exhausted (livelock, or a run that never ends)
  kTasksLeftAlive,      // the root returned before the tasks it started were gone
  kNoSuchWorkload,      // RunWorkload with a name that is no workload
};

// The kind's name, as the enumerator without its k ("LostWakeup").
const char* FailureName(Failure kind);

// One CPU's counters at the end of a run.
using CpuReport = CpuCounterSnapshot;

// What one simulation run came to: passed or failed (and how), with its counters. Not an error
// value (the kernel's are lib/result.h's Result<T>): a failed run is an answer, not an error.
struct Outcome {
  bool ok = false;
  Failure kind = Failure::kNone;  // what stopped the run
  std::string failure;            // what went wrong, with the CPU and task when known
  uint64_t seed = 0;
  uint64_t steps = 0;
  uint64_t end_time_ns = 0;  // virtual time at the end (the makespan of the workload)
  uint64_t start_time_ns = 0;
  uint64_t fingerprint = 0;  // hash of every scheduling decision: equal seeds, equal values
  uint64_t wake_latency_p50_ns = 0;
  uint64_t wake_latency_p99_ns = 0;
  uint64_t wake_latency_samples = 0;
  std::vector<CpuReport> cpus;
  // One line to paste into a shell to replay this run bit for bit (platform/sim/replay.h): a
  // sim-run command for a registered workload, the test harness's line for a custom root.
  std::string replay;
};

// The workload's root task body. It runs as the first task, spawned on CPU 0; the run ends
// when it returns. Anything it spawns must have finished by then (joined or detached and
// exited), or the run fails.
using RootFn = void (*)(void* arg);

// Runs one simulation to its end. Not reentrant: one simulation per process at a time.
Outcome Run(const Options& options, RootFn root, void* arg);

// The same with any callable as the root, captures allowed: its state may live in the test's
// frame (captured by reference) or in the root's own frame, which lasts the whole run, instead
// of in statics re-made by hand at each run. The simulator is host code, so the std::function
// is fine here; the kernel's own entry points stay bare functions.
Outcome Run(const Options& options, const std::function<void()>& root);

// Running a registered workload by name: workloads/sim_workloads.h (the workloads sit above
// the simulator that runs them).

// --- Called from task bodies (workloads) -----------------------------------------------------

// Spends `ns` of CPU time on the calling task's CPU. Interrupts are taken meanwhile; if the
// task is preempted, the rest is spent when (and where) it runs again.
void Compute(uint64_t ns);

// Seeded randomness for workloads, derived from the run's seed.
uint64_t WorkloadRandom();

// The virtual CPU executing the caller (for workload assertions).
uint32_t CurrentVirtualCpu();

// True while a simulation is running on this thread.
bool Active();

// Fails the running simulation with `message` (from a workload's own check).
[[noreturn]] void Fail(const char* message);

}  // namespace lichen::sim
