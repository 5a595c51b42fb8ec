// The core's entry points that the aarch64 platform calls (besides kernel/irq.h).
//
// platform/aarch64/demo.cc provides weak default definitions of all of them (the bring-up
// demonstration), so the image links and boots before the core exists; the core's strong
// definitions replace them one by one (the defaults live in a separate static library that
// is linked after the core's, see CMakeLists.txt).
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
