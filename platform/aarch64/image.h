// The kernel image's layout as the linker script (linker.ld) defines it, and the per-CPU stack
// slots that live in its .bss. Every boundary below is 4 KiB-aligned so that each part gets
// its own page permissions (mmu.cc).
#pragma once

#include <cstdint>

#include "platform/aarch64/asm_defs.h"

extern "C" {
extern char __kernel_start[];     // first byte of the image (the load address)
extern char __text_start[];       // .text: boot code, vectors, all code
extern char __boot_text_start[];  // .text.boot (page-aligned): also identity-mapped at boot
extern char __boot_text_end[];
extern char __text_end[];
extern char __rodata_start[];  // .rodata and .init_array (read-only after link)
extern char __rodata_end[];
extern char __init_array_start[];  // constructors of static objects, run once at boot
extern char __init_array_end[];
extern char __data_start[];  // .data then .bss (read-write)
extern char __bss_start[];
extern char __bss_end[];
extern char __kernel_end[];  // first byte after the image (page-aligned)
}

namespace lichen::aarch64 {

// One CPU's stacks: [guard][boot stack][guard][exception stack], each guard one page.
// The boot stack is where boot code, KernelMain/SecondaryMain and the CPU's initial context
// run; the exception stack takes synchronous exceptions and SErrors (see vectors.S), so even
// a boot-stack overflow is reported.
struct alignas(LICHEN_PAGE_SIZE) CpuStackSlot {
  uint8_t bytes[LICHEN_STACK_SLOT_SIZE];
};

// Address helpers for slot `cpu`.
uintptr_t BootStackBase(uint32_t cpu);        // lowest address of the boot stack
uintptr_t BootStackTop(uint32_t cpu);         // one past its highest address
uintptr_t ExceptionStackTop(uint32_t cpu);    // one past the exception stack's highest address
uintptr_t BootStackGuard(uint32_t cpu);       // the guard page below the boot stack
uintptr_t ExceptionStackGuard(uint32_t cpu);  // the guard page below the exception stack

}  // namespace lichen::aarch64

// The slots themselves (in .bss, page-aligned), indexed by logical CPU id; boot.S computes a
// CPU's initial stack pointer from this symbol.
extern "C" lichen::aarch64::CpuStackSlot lichen_cpu_stacks[LICHEN_AARCH64_MAX_CPUS];
