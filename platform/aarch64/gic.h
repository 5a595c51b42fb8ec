// GICv3 driver and the interrupt manager.
//
// Hardware: the distributor (GICD, SPIs, affinity routing), one redistributor per CPU (GICR,
// SGIs and PPIs of that CPU) and the CPU interface through the ICC_* system registers. All
// interrupts are Group 1 non-secure IRQs at one priority; the kernel never nests interrupts
// (IRQs stay masked in handlers), so priorities only need to pass the priority mask.
//
// Interrupt manager: a table of handlers indexed by INTID. Dispatch reads it WITHOUT any
// lock. This is the fix for the seed discussion's reentrancy bug, where the manager stayed
// locked while the ISR ran, so an ISR that needed the manager (or an interrupt on another CPU)
// deadlocked. It is safe because each slot is published once, atomically: the handler's
// argument is written first, then the function pointer with a release store; dispatch loads
// the function pointer with acquire and only then reads the argument. A slot is never
// changed or removed afterwards, so a dispatch that saw the pointer can use it for as long as
// it runs. Registrations themselves are serialized by a lock that dispatch never takes.
#pragma once

#include <cstdint>

#include "lib/cpumask.h"
#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/status.h"

namespace lichen::aarch64::gic {

// The SGI reserved for the core's IPI (platform::SendIpi -> irq::OnIpi).
inline constexpr uint32_t kIpiSgi = 1;
// INTIDs 0-15 are SGIs, 16-31 PPIs, 32-1019 SPIs; 1020-1023 are special (1023: spurious).
inline constexpr uint32_t kFirstSpecialIntid = 1020;
// Size of the handler table: SGIs, PPIs and the SPIs QEMU virt wires (up to INTID 287).
inline constexpr uint32_t kMaxHandlers = 288;

// Sets up the distributor (boot CPU, once, before any CPU enables its interface): affinity
// routing on, every SPI disabled, Group 1, default priority, routed to the boot CPU.
BootStatus InitDistributor(const BootInfo& info, uint64_t boot_mpidr);

// Sets up this CPU's redistributor (found by matching GICR_TYPER affinity with `local.mpidr`,
// then woken) and its CPU interface. Every SGI and PPI starts disabled.
BootStatus InitCpu(const BootInfo& info, ArchCpu& local);

// Enables SGI/PPI `intid` (< 32) on this CPU's redistributor.
void EnablePrivate(uint32_t intid);

// Sends SGI `intid` to every CPU in `targets` (logical ids), with as few ICC_SGI1R_EL1 writes
// as the targets' affinity groups allow. Earlier stores are visible to the targets first.
void SendSgi(uint32_t intid, CpuMask targets);

// ICC_IAR1_EL1: acknowledges the highest-priority pending interrupt; returns its INTID
// (>= kFirstSpecialIntid when nothing is pending).
uint32_t Acknowledge();
// ICC_EOIR1_EL1: priority drop and deactivation of `intid`.
void EndOfInterrupt(uint32_t intid);

// An interrupt handler: runs with IRQs masked, on the interrupted context's stack.
using Handler = void (*)(void* arg, uint32_t intid);

// Publishes `handler` for `intid`. Fails if the INTID is out of range or already taken.
BootStatus RegisterHandler(uint32_t intid, Handler handler, void* arg);

// Runs the handler registered for `intid`; false if there is none. Lock-free (see above).
bool Dispatch(uint32_t intid);

}  // namespace lichen::aarch64::gic
