// Debug switches.
//
// kDebugChecks: ownership, lock-order and run-queue invariant checks (LICHEN_DEBUG_CHECKS).
// Faults: host-only switches that turn off one of the fixes for the bugs of the seed
// discussion, so that each regression scenario can show the simulator catching the bug
// (tests/sim/seed_bugs_test.cc). They are plain globals set by a test before a simulation
// starts; on aarch64 LICHEN_FAULT() is the constant false and the code behind it vanishes.
#pragma once

namespace lichen {

#if defined(LICHEN_DEBUG_CHECKS)
inline constexpr bool kDebugChecks = true;
#else
inline constexpr bool kDebugChecks = false;
#endif

#if defined(LICHEN_HOST)
struct Faults {
  // Seed bug "idle CPU never woken": a remote wake queues the task but sends no IPI.
  bool no_wake_ipi = false;
  // Seed bug "preemption event on the wrong CPU": slice-expiry events go to one global
  // queue that CPU 0's timer interrupt services, rescheduling CPU 0 instead of the owner.
  bool global_slice_events = false;
  // Seed bug "interrupt while the scheduler state is borrowed": IrqGuard does not mask.
  bool irq_guard_does_not_mask = false;
  // Seed bug "cyclic lock in the yield path": Yield() holds a scheduler lock across
  // Schedule(), and slice expiry takes the same lock.
  bool yield_holds_sched_lock = false;
  // Not from the seed, found under QEMU: the EEVDF lag check ignores how late interrupts and
  // preemptions came, so a machine that stalls (a vCPU descheduled by its host) trips it on
  // a correct scheduler.
  bool lag_bound_ignores_lateness = false;
  // Not from the seed, found by the simulator: an owner that gives a task to a thief does not
  // wake the next idle CPU, so a pile of waiting tasks is shared with one thief only.
  bool no_steal_chain_kick = false;
  // Found by the simulator after steal_from_busy_cpu (balance off) hung under QEMU: a running
  // task that is preempted and now waits, movable, bumps no enqueue generation and kicks
  // nobody, so a thief refused while it ran sleeps beside it on a stale memo.
  bool no_kick_for_preempted_task = false;

  // Found by the simulator's message-waiting-with-no-IPI invariant: Kick() unmasks IRQs
  // between setting ipi_pending and sending the IPI, so a sender preempted there leaves the
  // flag set and no IPI coming, and every message to that CPU waits.
  bool preemptible_kick = false;

  // Mutations of the lock-free protocols, for the weak-memory and placement checks
  // (tests/sim/weak_memory_test.cc). Each undoes one memory order or one atomic step.
  // Idle publication against enqueue (IdleLoop / Publish): `idle` and `nr_running` stored
  // relaxed instead of seq_cst, so an idle CPU and an enqueuer can each miss the other.
  bool relaxed_idle_publication = false;
  // Mailbox: the owner clears ipi_pending with a release store instead of seq_cst, so its
  // take of the inbox can pass the clear and a sender sees the flag still set.
  bool relaxed_ipi_clear = false;
  // Mailbox: ipi_pending cleared after the inbox is taken instead of before.
  bool ipi_clear_after_drain = false;
  // Task state hand-off: Wake() reads the task's state without the full barrier that orders
  // the waker's condition store before it.
  bool wake_without_barrier = false;
  // Placement: the round-robin cursor read and written with a load and a store instead of
  // one fetch-add, so CPUs spawning at once take the same turn.
  bool round_robin_load_store = false;
  // EEVDF: the lag saved at dequeue is not clamped to Linux's max(2 slices, a tick).
  bool no_lag_clamp = false;
  // Timers: the hardware timer is armed 5 ms after the earliest event instead of at it.
  bool late_timer = false;

  // Seed bug "futex timeout loses the wake" (tests/sim/wait_test.cc): a Mutex::LockUntil
  // whose deadline passes withdraws its waiter without looking whether Unlock() handed it the
  // mutex meanwhile, so the task reports a timeout while owning the mutex, which is never
  // unlocked again.
  bool mutex_timeout_ignores_grant = false;

  // Found by the futex tests (tests/futex): CallOn returns as soon as it sees its request
  // done, before the handler's Wake() of the caller, which then lands in the caller's next
  // sleep and ends it early.
  bool call_returns_before_wake = false;

  // Seed bug "garbage timeout pointer loses the wake" (tests/futex): futex(2) reads its
  // timeout argument for every op, so a wake op whose fourth argument is garbage (or val2)
  // fails with EFAULT and wakes nobody.
  bool futex_reads_timeout_for_wake = false;
  // lockdep reads the CPU id (and so whose held mutexes it checks) before masking IRQs: the
  // task may move to another CPU in between (found by the QEMU soak).
  bool lockdep_cpu_before_mask = false;

  // Seed bug "AlreadyMapped" (tests/vm): a fault that finds its page already mapped (another
  // thread on another CPU faulted it in first) fails with SEGV_MAPERR instead of succeeding.
  bool vm_already_mapped_is_an_error = false;
  // Fault racing munmap (tests/vm): the fault handler drops the address space's lock while it
  // allocates and fills the page and installs it without looking again whether the region is
  // still there, so a page can stay mapped in a range munmap has already emptied.
  bool vm_fault_drops_lock_to_fill = false;
  // ASID rollover (tests/vm): the rollover forgets the ASIDs the CPUs are running, so one of
  // them is given to another space while its CPU still runs the old one with it, and a flush
  // by the space's new ASID misses that CPU (Linux keeps them as reserved ASIDs).
  bool vm_asid_rollover_forgets_active = false;
  // ASID rollover (tests/vm): the rollover marks no CPU flush-pending, so a CPU can start
  // using an ASID while its TLB still holds entries of the space that had it before.
  bool vm_asid_rollover_skips_flush = false;
  // Address-space lifetime (tests/vm): vm::Activate takes no reference for the CPU, so the
  // last thread's Put frees a space (its tables) while a CPU still runs on them.
  bool vm_activate_takes_no_reference = false;
  // User copies (tests/vm): every copy takes the space's sleeping lock, even of a page that is
  // mapped, so the threads of a process queue behind each other on every system call.
  bool vm_copy_takes_space_lock = false;
};
extern Faults g_faults;
#define LICHEN_FAULT(name) (::lichen::g_faults.name)
#else
#define LICHEN_FAULT(name) false
#endif

}  // namespace lichen
