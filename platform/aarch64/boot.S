// Boot entry points of the aarch64 kernel image (QEMU virt).
//
// _start                  the boot CPU, from QEMU's -kernel loader (or any bootloader that
//                         follows the arm64 boot protocol loosely): x0 = DTB address or 0,
//                         MMU off, at EL2 or EL1.
// lichen_secondary_entry  every other CPU, from PSCI CPU_ON: x0 = its logical CPU id (the
//                         context id the boot CPU passed), MMU off, at EL2 or EL1.
//
// Both paths drop to EL1 if needed, take their stack from lichen_cpu_stacks, point TPIDR_EL1 at
// their ArchCpu and VBAR_EL1 at the vectors, and turn on the MMU with the tables the boot CPU
// built. Before its MMU is on a CPU must not write memory another CPU may cache, and the
// secondaries do not even read it: everything they need is computed from their CPU id.
//
// The image is linked in the TTBR1 half (LICHEN_KERNEL_VA_OFFSET + its physical address) but
// entered at its physical address with the MMU off, where every PC-relative address (adrp)
// is physical. The MMU comes on with TTBR1 = the kernel's tables and TTBR0 = an identity map
// of .text.boot only (this file), so the instruction after the SCTLR write still fetches; the
// CPU then branches to a linked (high) address, moves sp, TPIDR_EL1 and VBAR_EL1 up by the
// offset, and points TTBR0 at an empty table (lichen_leave_identity_map). From then on the
// lower half is the running process's (platform::SetUserTranslation).
#include "platform/aarch64/asm_defs.h"

// Loads the address of `sym` (PC-relative, works before and after the MMU is on).
.macro ADDR reg, sym
  adrp \reg, \sym
  add \reg, \reg, :lo12:\sym
.endm

// Continues at the linked (TTBR1) address of the next instruction: a literal-pool load gives
// the absolute address, where adrp would give the physical one. Uses x9.
.macro JUMP_HIGH
  ldr x9, =1f
  br x9
1:
.endm

  .section .text.boot, "ax"
  .global _start
  .type _start, %function
_start:
  // The arm64 Linux Image header (Documentation/arch/arm64/booting.rst), so that the raw
  // lichen.bin boots as a Linux Image: only then does QEMU pass -initrd to the kernel (through
  // /chosen). An ELF load enters here too; the first word branches over the header.
  b lichen_boot_start           // code0
  .long 0                       // code1
  .quad 0x200000                // text_offset: 2 MiB above a 2 MiB-aligned RAM base
  .quad lichen_image_size       // image_size: load address to the end of .bss (linker.ld)
  .quad 0x2                     // flags: little-endian, 4 KiB pages, base near the RAM start
  .quad 0, 0, 0                 // res2-res4
  .ascii "ARM\x64"              // magic
  .long 0                       // res5: no PE header
lichen_boot_start:
  msr daifset, #0xf             // everything masked until the kernel is ready for it
  mov x19, x0                   // x19: DTB address hint (0 when the loader gave none)
  mrs x20, CurrentEL
  ubfx x20, x20, #2, #2         // x20: the EL we were entered at (for the boot log)
  bl lichen_drop_to_el1         // returns at EL1

  // CPU 0's boot stack: top of the boot stack in slot 0.
  ADDR x0, lichen_cpu_stacks
  ldr x1, =LICHEN_BOOT_STACK_TOP_OFFSET
  add x0, x0, x1
  mov sp, x0

  // Clear .bss once (boundaries are page-aligned). The MMU is off, so these stores go
  // straight to memory; the cache lines are invalidated below before the MMU comes on.
  ADDR x0, __bss_start
  ADDR x1, __bss_end
1:
  cmp x0, x1
  b.hs 2f
  stp xzr, xzr, [x0], #16
  b 1b
2:
  // TPIDR_EL1 = &lichen_arch_cpu[0]; its exception stack top; cpu id 0 (already zero).
  ADDR x0, lichen_arch_cpu
  msr tpidr_el1, x0
  ADDR x1, lichen_cpu_stacks
  ldr x2, =LICHEN_EXCEPTION_STACK_TOP_OFFSET
  add x1, x1, x2
  str x1, [x0, #LICHEN_ARCH_CPU_EXCEPTION_STACK_TOP]
  ADDR x0, lichen_vectors
  msr vbar_el1, x0
  isb

  // Parse the device tree and build the page tables, still with the MMU off.
  mov x0, x19
  mov x1, x20
  bl LichenBootEarly

  // Everything written so far went to memory uncached; drop any stale cache lines over the
  // image's writable part so the first cached reads see those writes.
  ADDR x0, __data_start
  ADDR x1, __kernel_end
  bl lichen_dcache_invalidate_range
  bl lichen_enable_mmu
  JUMP_HIGH

  // Running at the linked addresses: move everything that holds a physical address up.
  ldr x9, =LICHEN_KERNEL_VA_OFFSET
  add sp, sp, x9
  bl lichen_leave_identity_map
  ADDR x0, lichen_arch_cpu
  msr tpidr_el1, x0
  ADDR x1, lichen_cpu_stacks
  ldr x2, =LICHEN_EXCEPTION_STACK_TOP_OFFSET
  add x1, x1, x2
  str x1, [x0, #LICHEN_ARCH_CPU_EXCEPTION_STACK_TOP]
  ADDR x0, lichen_vectors
  msr vbar_el1, x0
  isb

  bl LichenBootMain             // never returns
  b lichen_park
  .size _start, . - _start

  .global lichen_secondary_entry
  .type lichen_secondary_entry, %function
lichen_secondary_entry:
  msr daifset, #0xf
  mov x19, x0                   // x19: logical CPU id (PSCI context id)
  cmp x19, #LICHEN_AARCH64_MAX_CPUS
  b.hs lichen_park              // cannot happen: the boot CPU only starts ids it has slots for
  mrs x20, CurrentEL
  ubfx x20, x20, #2, #2         // x20: the EL this CPU was entered at
  bl lichen_drop_to_el1

  // TPIDR_EL1 = &lichen_arch_cpu[cpu] (the boot CPU filled it and cleaned it to memory).
  ADDR x0, lichen_arch_cpu
  mov x1, #LICHEN_ARCH_CPU_SIZE
  madd x0, x19, x1, x0
  msr tpidr_el1, x0
  // sp = lichen_cpu_stacks[cpu] + boot stack top offset.
  ADDR x0, lichen_cpu_stacks
  ldr x1, =LICHEN_STACK_SLOT_SIZE
  madd x0, x19, x1, x0
  ldr x1, =LICHEN_BOOT_STACK_TOP_OFFSET
  add x0, x0, x1
  mov sp, x0
  ADDR x0, lichen_vectors
  msr vbar_el1, x0
  isb
  bl lichen_enable_mmu          // now coherent with the other CPUs
  JUMP_HIGH

  // The same three, at the linked addresses.
  bl lichen_leave_identity_map
  ADDR x0, lichen_arch_cpu
  mov x1, #LICHEN_ARCH_CPU_SIZE
  madd x0, x19, x1, x0
  msr tpidr_el1, x0
  ADDR x0, lichen_cpu_stacks
  ldr x1, =LICHEN_STACK_SLOT_SIZE
  madd x0, x19, x1, x0
  ldr x1, =LICHEN_BOOT_STACK_TOP_OFFSET
  add x0, x0, x1
  mov sp, x0
  ADDR x0, lichen_vectors
  msr vbar_el1, x0
  isb

  mov x0, x19
  mov x1, x20
  bl LichenSecondaryBoot        // never returns
  b lichen_park
  .size lichen_secondary_entry, . - lichen_secondary_entry

// Leaves EL2 for EL1 (returning to the caller at EL1), or returns at once when already at EL1.
// Uses only x9; no stack. EL3 (QEMU with secure=on) is not supported: that fails the boot.
  .type lichen_drop_to_el1, %function
lichen_drop_to_el1:
  mrs x9, CurrentEL
  ubfx x9, x9, #2, #2
  cmp x9, #1
  b.eq 3f
  cmp x9, #2
  b.ne lichen_early_fail

  // EL1 runs AArch64; no traps to EL2, no stage-2 translation, interrupts routed to EL1.
  ldr x9, =LICHEN_HCR_EL2_RW
  msr hcr_el2, x9
  // EL1 may use the physical counter and timer; the virtual counter equals the physical one.
  mov x9, #LICHEN_CNTHCTL_EL2_EL1_ACCESS
  msr cnthctl_el2, x9
  msr cntvoff_el2, xzr
  // EL1 reads of MIDR/MPIDR return the real values (they come from VPIDR/VMPIDR at EL1).
  mrs x9, midr_el1
  msr vpidr_el2, x9
  mrs x9, mpidr_el1
  msr vmpidr_el2, x9
  // No FP/SIMD or trace traps, no trapped system-register groups.
  mov x9, #LICHEN_CPTR_EL2_NO_TRAPS
  msr cptr_el2, x9
  msr hstr_el2, xzr
  // GICv3 CPU interface: allow EL1 to use the ICC_* system registers, if the CPU has them
  // (ID_AA64PFR0_EL1.GIC, bits [27:24]); disable the virtual CPU interface.
  mrs x9, id_aa64pfr0_el1
  ubfx x9, x9, #24, #4
  cbz x9, 1f
  mrs x9, icc_sre_el2
  orr x9, x9, #LICHEN_ICC_SRE_EL2_VALUE
  msr icc_sre_el2, x9
  isb
  msr ich_hcr_el2, xzr
1:
  // EL1 starts with its MMU and caches off, little-endian.
  ldr x9, =LICHEN_SCTLR_EL1_RES1
  msr sctlr_el1, x9
  // "Return" to the caller at EL1h with all of DAIF masked.
  mov x9, #LICHEN_SPSR_EL1H_MASKED
  msr spsr_el2, x9
  msr elr_el2, x30
  isb
  eret
3:
  ldr x9, =LICHEN_SCTLR_EL1_RES1  // known state: MMU and caches off
  msr sctlr_el1, x9
  isb
  ret
  .size lichen_drop_to_el1, . - lichen_drop_to_el1

// Turns on the MMU with the shared tables: MAIR, TCR (IPS from the CPU's PARange, at most
// 48 bits; 16-bit ASIDs when the CPU has them), TTBR1 = the kernel's root table, TTBR0 = the
// identity map of .text.boot; stale TLB entries and instructions are discarded first. Called
// with the MMU off, at the physical address (adrp gives the tables' physical addresses), and
// returns to the identity-mapped caller. Uses x9-x11 only; no stack.
  .global lichen_enable_mmu
  .type lichen_enable_mmu, %function
lichen_enable_mmu:
  mrs x9, id_aa64mmfr0_el1
  ubfx x10, x9, #28, #4         // TGran4: 0b1111 means no 4 KiB granule
  cmp x10, #0xf
  b.eq lichen_early_fail
  ldr x10, =LICHEN_MAIR_EL1
  msr mair_el1, x10
  mov x10, #LICHEN_CPACR_EL1_FPEN   // user threads use FP/SIMD; el0 saves it at EL1
  msr cpacr_el1, x10
  ldr x11, =LICHEN_TCR_EL1_BASE
  and x10, x9, #0xf             // PARange
  cmp x10, #5
  mov x9, #5
  csel x10, x10, x9, ls         // IPS = min(PARange, 0b101 = 48 bits)
  bfi x11, x10, #LICHEN_TCR_IPS_SHIFT, #3
  mrs x9, id_aa64mmfr0_el1
  ubfx x10, x9, #4, #4          // ASIDBits: 0b0010 means 16 bits
  cmp x10, #2
  cset x10, eq
  bfi x11, x10, #LICHEN_TCR_AS_SHIFT, #1
  msr tcr_el1, x11
  adrp x9, lichen_page_tables   // page-aligned: adrp gives its exact address
  msr ttbr1_el1, x9
  adrp x9, lichen_identity_tables
  msr ttbr0_el1, x9
  isb
  tlbi vmalle1
  ic iallu
  dsb nsh
  isb
  ldr x9, =LICHEN_SCTLR_EL1_MMU_ON
  msr sctlr_el1, x9
  isb
  ret
  .size lichen_enable_mmu, . - lichen_enable_mmu

// Called at the linked address once the MMU is on: TTBR0 = the empty table (ASID 0, which no
// process gets), and this CPU's TLB forgets the identity map. Uses x9-x10; no stack.
  .section .text, "ax"
  .global lichen_leave_identity_map
  .type lichen_leave_identity_map, %function
lichen_leave_identity_map:
  adrp x9, lichen_empty_table
  ldr x10, =LICHEN_KERNEL_VA_OFFSET
  sub x9, x9, x10
  msr ttbr0_el1, x9
  isb
  tlbi vmalle1
  dsb nsh
  isb
  ret
  .size lichen_leave_identity_map, . - lichen_leave_identity_map

  .section .text.boot, "ax"
// Invalidates the data cache lines covering [x0, x1) to the point of coherency (no write-back).
// Uses x0-x3.
  .global lichen_dcache_invalidate_range
  .type lichen_dcache_invalidate_range, %function
lichen_dcache_invalidate_range:
  mrs x3, ctr_el0
  ubfx x3, x3, #16, #4          // DminLine: log2 of the smallest line, in 4-byte words
  mov x2, #4
  lsl x2, x2, x3                // line size in bytes
  sub x3, x2, #1
  bic x0, x0, x3
1:
  dc ivac, x0
  add x0, x0, x2
  cmp x0, x1
  b.lo 1b
  dsb sy
  ret
  .size lichen_dcache_invalidate_range, . - lichen_dcache_invalidate_range

// Semihosting call (Arm semihosting, AArch64 form): w0 = operation, x1 = parameter block;
// returns the host's result in x0. The HLT is labelled so that the exception handler can
// recognise it: with semihosting disabled it is an undefined instruction, which the handler
// turns into a return of -1 (see LichenHandleException).
  .global lichen_semihosting_call
  .global lichen_semihosting_hlt
  .type lichen_semihosting_call, %function
lichen_semihosting_call:
lichen_semihosting_hlt:
  hlt #0xf000
  ret
  .size lichen_semihosting_call, . - lichen_semihosting_call

// Boot cannot continue and nothing can be printed yet (EL3 entry, no 4 KiB granule): ask the
// host to exit with the boot-error status, then park.
  .type lichen_early_fail, %function
lichen_early_fail:
  ADDR x1, lichen_early_exit_block
  mov w0, #LICHEN_SEMIHOSTING_SYS_EXIT
  hlt #0xf000
  // fall through: semihosting unavailable
  .size lichen_early_fail, . - lichen_early_fail

// Stops this CPU for good: everything masked, WFI forever.
  .global lichen_park
  .type lichen_park, %function
lichen_park:
  msr daifset, #0xf
1:
  wfi
  b 1b
  .size lichen_park, . - lichen_park

  .section .rodata.boot, "a"
  .balign 8
// SYS_EXIT parameter block: {ADP_Stopped_ApplicationExit, exit status 3 (boot error)}.
lichen_early_exit_block:
  .quad LICHEN_ADP_STOPPED_APPLICATION_EXIT
  .quad 3
