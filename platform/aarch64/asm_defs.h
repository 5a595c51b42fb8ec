// Constants shared by the assembly (boot.S, vectors.S, context.S) and the C++ of the aarch64
// platform. Plain #defines only, so the assembler can include this file; the C++ side checks
// every layout constant against the real structures with static_assert (cpu_local.h,
// exception_frame.h).
#pragma once

// --- Limits and stacks ----------------------------------------------------------------------

// CPUs this platform brings up: the core's kMaxCpus (lib/cpumask.h; checked in cpu.cc), which
// the assembler cannot see. Every per-CPU table of the platform (stack slots, ArchCpu,
// BootInfo's MPIDRs) is sized by it. QEMU virt's first GICv3 redistributor region holds 123
// CPUs, so up to this limit no second region is needed; DT CPUs beyond it are ignored.
#define LICHEN_AARCH64_MAX_CPUS 64

#define LICHEN_PAGE_SIZE 4096

// Per-CPU stack slot: [guard page][boot stack][guard page][exception stack]. The guard pages
// stay unmapped, so an overflow faults instead of silently corrupting the neighbour.
#define LICHEN_BOOT_STACK_SIZE (32 * 1024)
#define LICHEN_EXCEPTION_STACK_SIZE (16 * 1024)
#define LICHEN_STACK_SLOT_SIZE \
  (2 * LICHEN_PAGE_SIZE + LICHEN_BOOT_STACK_SIZE + LICHEN_EXCEPTION_STACK_SIZE)
// Offsets of the two stack tops inside a slot (stacks grow down from these).
#define LICHEN_BOOT_STACK_TOP_OFFSET (LICHEN_PAGE_SIZE + LICHEN_BOOT_STACK_SIZE)
#define LICHEN_EXCEPTION_STACK_TOP_OFFSET (LICHEN_STACK_SLOT_SIZE)

// --- struct ArchCpu (cpu_local.h): fields read by assembly -----------------------------------

#define LICHEN_ARCH_CPU_SIZE 64
#define LICHEN_ARCH_CPU_EXCEPTION_STACK_TOP 0  // uint64_t: top of this CPU's exception stack
#define LICHEN_ARCH_CPU_CPU 8                  // uint32_t: logical CPU id

// --- struct ExceptionFrame (exception_frame.h) --------------------------------------------------

#define LICHEN_FRAME_SIZE 288  // x0-x30, sp, elr, spsr, esr, far: 36 x 8 bytes, 16-aligned
#define LICHEN_FRAME_X30 240
#define LICHEN_FRAME_SP 248
#define LICHEN_FRAME_ELR 256
#define LICHEN_FRAME_SPSR 264
#define LICHEN_FRAME_ESR 272
#define LICHEN_FRAME_FAR 280

// Which vector an exception came through (ExceptionKind in exception_frame.h).
#define LICHEN_EXC_SYNC 0       // synchronous, current EL, SP_ELx
#define LICHEN_EXC_SERROR 1     // SError, current EL, SP_ELx
#define LICHEN_EXC_FIQ 2        // FIQ (never enabled), current EL, SP_ELx
#define LICHEN_EXC_SP0 3        // any exception taken while SP_EL0 was selected
#define LICHEN_EXC_LOWER_A64 4  // from EL0 in AArch64 (no user space yet)
#define LICHEN_EXC_LOWER_A32 5  // from EL0 in AArch32

// --- Entry from EL0 (vectors.S, el0.h) -----------------------------------------------------------

// The frame an exception from EL0 leaves at the top of the task's kernel stack (SP_EL1 is the
// stack's top while EL0 runs): ESR and FAR, then the user registers (UserRegs: x0-x30, sp,
// pc, pstate), which end exactly at the top.
#define LICHEN_EL0_FRAME_SIZE 288
#define LICHEN_EL0_FRAME_REGS 16  // offset of the user registers in the frame
#define LICHEN_EL0_REGS_SP 248    // offsets inside the user registers
#define LICHEN_EL0_REGS_PC 256
#define LICHEN_EL0_REGS_PSTATE 264
// What of a saved PSTATE may go back to EL0: NZCV only (EL0t, nothing masked), so a forged
// pstate (sigreturn) can never return into EL1.
#define LICHEN_EL0_PSTATE_MASK 0xf0000000

// The FP/SIMD and thread state of a user thread (platform::UserExtState, el0.h): V0-V31, then
// FPCR, FPSR, TPIDR_EL0 and padding.
#define LICHEN_EXT_STATE_SIZE 544
#define LICHEN_EXT_FPCR 512
#define LICHEN_EXT_TPIDR 528

// CPACR_EL1.FPEN = 0b11: FP/SIMD instructions trap at neither EL0 nor EL1.
#define LICHEN_CPACR_EL1_FPEN 0x300000

// --- Context switch frame (context.S) ----------------------------------------------------------

// x19-x28, x29 (fp), x30 (lr): 12 registers, 96 bytes, a multiple of 16.
#define LICHEN_SWITCH_FRAME_SIZE 96

// --- System register values ---------------------------------------------------------------------

// MAIR_EL1: Attr0 = Device-nGnRE (0x04), Attr1 = Normal inner/outer write-back, read- and
// write-allocate, non-transient (0xff), Attr2 = Normal non-cacheable (0x44).
#define LICHEN_MAIR_EL1 0x44ff04
#define LICHEN_MAIR_DEVICE_INDEX 0
#define LICHEN_MAIR_DEVICE_ATTR 0x04  // the Device-nGnRE encoding (PAR_EL1.ATTR)
#define LICHEN_MAIR_NORMAL_INDEX 1
#define LICHEN_MAIR_NONCACHED_INDEX 2

// --- Virtual memory layout (docs/aarch64.md, "Memory map") -----------------------------------

// The kernel runs in the TTBR1 half (T1SZ = 16: 0xffff_0000_0000_0000 and up) and maps every
// physical address it uses -- RAM, its own image, the devices it drives -- at this one fixed
// offset: kernel VA = PA + LICHEN_KERNEL_VA_OFFSET (platform::PhysToKernel). The image is
// linked at its load address plus the offset, so the image is simply part of that direct map.
// The lower half (TTBR0) belongs to the running process.
#define LICHEN_KERNEL_VA_OFFSET 0xffff000000000000
// Physical addresses the direct map can hold: PA [0, 2^47) maps to VA [offset, offset + 2^47).
#define LICHEN_DIRECT_MAP_PA_LIMIT 0x800000000000
// Task kernel stacks (kstack.cc): the upper half of the TTBR1 range, never a direct-map VA.
#define LICHEN_KSTACK_REGION_BASE 0xffff800000000000

// TCR_EL1 without IPS (filled in at run time from ID_AA64MMFR0_EL1.PARange) and AS:
//   T0SZ = 16 (48-bit user VA, 4 levels)             bits [5:0]
//   IRGN0 = ORGN0 = 0b01 (write-back, write-allocate walks)  bits [9:8], [11:10]
//   SH0 = 0b11 (inner shareable)                     bits [13:12]
//   TG0 = 0b00 (4 KiB granule)                       bits [15:14]
//   T1SZ = 16 (48-bit kernel VA, 4 levels)           bits [21:16]
//   A1 = 0 (the ASID is TTBR0_EL1's)                 bit 22
//   EPD1 = 0, IRGN1 = ORGN1 = 0b01, SH1 = 0b11       bits 23, [25:24], [27:26], [29:28]
//   TG1 = 0b10 (4 KiB granule)                       bits [31:30]
// AS (bit 36, 16-bit ASIDs) is set at run time when ID_AA64MMFR0_EL1.ASIDBits says 16.
#define LICHEN_TCR_T0SZ 16
#define LICHEN_TCR_EL1_BASE 0xb5103510
#define LICHEN_TCR_IPS_SHIFT 32
#define LICHEN_TCR_AS_SHIFT 36

// SCTLR_EL1 with the MMU off: only the bits that are RES1 in Armv8.0 (11, 20, 22, 23, 28, 29).
#define LICHEN_SCTLR_EL1_RES1 0x30d00800
// SCTLR_EL1 with the MMU on: RES1 | M (0) | C (2) | SA (3) | SA0 (4) | I (12) | WXN (19), and
// for EL0 what Linux gives it: DZE (14, DC ZVA), UCT (15, CTR_EL0 reads), nTWI (16) and nTWE
// (18, WFI/WFE not trapped). Little-endian (EE = E0E = 0), no alignment faults for normal
// memory (A = 0), UMA = 0 (EL0 cannot mask interrupts).
#define LICHEN_SCTLR_EL1_MMU_ON 0x30ddd81d

// HCR_EL2 when dropping to EL1: RW (bit 31) = EL1 is AArch64; nothing trapped, no stage 2,
// physical IRQs/FIQs/SErrors go to EL1 (IMO = FMO = AMO = 0).
#define LICHEN_HCR_EL2_RW (1 << 31)
// SPSR_EL2 for the eret into EL1: EL1h (M = 0b0101) with D, A, I, F masked.
#define LICHEN_SPSR_EL1H_MASKED 0x3c5
// CPTR_EL2: RES1 bits (13:12, 9:0) and nothing trapped (TFP = 0, TTA = 0).
#define LICHEN_CPTR_EL2_NO_TRAPS 0x33ff
// CNTHCTL_EL2: EL1PCTEN (0) | EL1PCEN (1): EL1 may read the physical counter and use the
// physical timer (the kernel itself uses the virtual ones).
#define LICHEN_CNTHCTL_EL2_EL1_ACCESS 0x3
// ICC_SRE_EL2: SRE (0) | DFB (1) | DIB (2) | Enable (3): EL1 may use the GICv3 system registers.
#define LICHEN_ICC_SRE_EL2_VALUE 0xf

// Semihosting (Arm semihosting spec): SYS_EXIT with an AArch64 parameter block.
#define LICHEN_SEMIHOSTING_SYS_EXIT 0x18
#define LICHEN_ADP_STOPPED_APPLICATION_EXIT 0x20026
