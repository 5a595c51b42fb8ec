// A hardware watchdog for the ktests, independent of the scheduler.
//
// The core owns the EL1 virtual timer; the watchdog uses the EL1 *physical* timer (CNTP_*,
// its own PPI, INTID from the device tree: 30 on QEMU virt). Arm(deadline) programs every
// CPU's physical timer for that one deadline (this CPU directly, the others through a
// cross-CPU call), so if the deadline passes before Disarm(), every CPU that still takes
// interrupts gets one, and the first of them runs the `expired` callback, in interrupt
// context -- a test that wedges the scheduler on some CPUs is still reported by another. A
// CPU spinning with IRQs masked cannot report; on one CPU that case is left to the runner's
// outer timeout (tools/qemu/run-kernel --timeout).
//
// Nothing ticks periodically: a periodic watchdog tick would wake idle CPUs and so hide the
// very bug class the ktests look for (a lost wakeup of an idle CPU would turn into a delay).
// An armed deadline that is disarmed in time still fires once, after the fact, on CPUs that
// were not re-armed since; that interrupt finds nothing armed and does nothing.
#pragma once

#include <cstdint>

#include "platform/aarch64/status.h"

namespace lichen::aarch64::watchdog {

// Called once, on the first CPU whose watchdog interrupt finds the armed deadline passed, in
// interrupt context (IRQs masked). It is expected to print its diagnosis and power off.
using Expired = void (*)(void* arg);

// Boot CPU, before the secondaries are released: registers the interrupt handler for the
// physical timer's `intid`. Without it (or when it fails) InitCpu() and Arm() do nothing.
BootStatus Start(uint32_t intid);

// Each CPU, in its own bring-up (IRQs masked): its physical timer off, its PPI enabled.
void InitCpu();

// True once Start() succeeded.
bool Running();

// Arms `deadline_ns` (absolute platform::Now() time) on every online CPU: if it passes before
// Disarm(), `expired` runs. Replaces an earlier arming. Task context; the caller must be
// pinned to one CPU (it reprograms the other CPUs through sched::CallOn, which may not target
// the caller's own CPU).
void Arm(uint64_t deadline_ns, Expired expired, void* arg);

// Cancels the armed deadline (the CPUs' timers stay programmed; see above).
void Disarm();

}  // namespace lichen::aarch64::watchdog
