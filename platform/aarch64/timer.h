// The Arm generic timer: the clock (platform::Now) and each CPU's one-shot timer
// (platform::ArmTimer / DisarmTimer).
//
// The kernel uses the EL1 *virtual* timer (CNTV_CVAL_EL0 / CNTV_CTL_EL0, PPI 11 = INTID 27 on
// QEMU virt, taken from the device tree) and the virtual counter CNTVCT_EL0. It is available
// at EL1 whether or not an EL2 exists, and when the kernel itself drops from EL2 it sets
// CNTVOFF_EL2 = 0, so virtual time equals physical time. The counter is common to all CPUs;
// each CPU's compare value and control are its own.
//
// Conversions use precomputed 32.32 fixed-point factors and 128-bit products (umulh; no
// division at run time, no libgcc), so no intermediate overflows for any 64-bit input.
#pragma once

#include <cstdint>

#include "platform/aarch64/status.h"

namespace lichen::aarch64::timer {

// Boot CPU, once: reads CNTFRQ_EL0, computes the conversion factors, records the boot
// counter value (Now() counts from there) and registers the interrupt handler for `intid`.
BootStatus Init(uint32_t intid);

// Each CPU: timer disarmed, its PPI enabled at this CPU's redistributor.
void InitCpu();

// The counter frequency in Hz.
uint64_t FrequencyHz();

// Counter ticks <-> nanoseconds (relative quantities, no boot offset).
uint64_t TicksToNs(uint64_t ticks);
// The smallest tick count whose TicksToNs() is >= ns (so a deadline is never early).
uint64_t NsToTicks(uint64_t ns);

// Timer interrupts handled on this CPU that found the timer not firing (a disarm raced with
// the interrupt); they are not passed to the core.
uint64_t StaleInterrupts();

}  // namespace lichen::aarch64::timer
