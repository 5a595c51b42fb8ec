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
};
extern Faults g_faults;
#define LICHEN_FAULT(name) (::lichen::g_faults.name)
#else
#define LICHEN_FAULT(name) false
#endif

}  // namespace lichen
