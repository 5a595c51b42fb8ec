// The core's entry points that the aarch64 platform calls (besides kernel/irq.h).
//
// The core defines them in lichen.elf; platform/aarch64/demo.cc defines all of them for
// lichen-bringup.elf, the platform alone. Neither image links both, and nothing is weak: an
// entry point missing from the core is a link error, not a silent fallback to the demo.
#pragma once

#include <cstdint>

#include "platform/aarch64/boot_info.h"

namespace lichen {

// Boot CPU, once the platform is up: MMU and caches on, console, GIC, timer, every CPU online
// (BootInfo::cpu_count of them, CpuCount() final) but the secondaries still held in the
// platform. IRQs are masked. Returning from it means "the kernel is done": the platform
// powers the machine off with success (exit status 0).
void KernelMain(const BootInfo& info);

// Every secondary CPU `cpu` (1 .. cpu_count-1), after KernelMain called
// ReleaseSecondaryCpus(). IRQs are masked; it runs on the CPU's boot stack. Returning parks
// the CPU for good.
void SecondaryMain(uint32_t cpu);

// Name of the task running on this CPU, for fatal-exception reports (may return nullptr).
const char* CurrentTaskName();

namespace aarch64 {

// Called by KernelMain when the core is ready for SecondaryMain (for example after its
// EarlyInit and the boot CPU's InitThisCpu): lets every secondary CPU, online and waiting in
// the platform with IRQs masked, enter SecondaryMain. Until then they sleep in WFE.
void ReleaseSecondaryCpus();

}  // namespace aarch64

}  // namespace lichen
