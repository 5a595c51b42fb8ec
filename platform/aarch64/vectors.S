// EL1 exception vectors.
//
// IRQs (the only exception the kernel expects in normal operation) save the full interrupted
// register state as an ExceptionFrame on the *current* stack, call LichenHandleIrq(frame) and
// restore from the same frame. Because the frame lives on the interrupted context's stack,
// irq::Exit() may switch to another context from inside the handler: the interrupted context
// is resumed later (possibly on another CPU) by switching back to it, which returns through
// LichenHandleIrq into the restore sequence below, still with that context's frame.
//
// Everything else (synchronous exceptions, SErrors, FIQs, anything taken with SP_EL0 selected
// or from a lower EL) is taken on this CPU's exception stack, found through TPIDR_EL1, so a
// kernel stack overflow into a guard page is still reported. These call
// LichenHandleException(frame, kind), which reports and powers off; it returns only after
// fixing up a recoverable case, and then the frame is restored onto the interrupted stack.
//
// Exceptions from EL0 (AArch64) are the user's: synchronous ones and IRQs save the user
// registers at the top of the running task's kernel stack (SP_EL1 is that top while EL0 runs)
// and run there with the task, so a page fault or a syscall may sleep and the task may be
// switched out and back (el0.cc). They leave through lichen_return_to_el0. SErrors and FIQs
// from EL0, and anything from AArch32, remain fatal.
//
// TPIDRRO_EL0 is the scratch register of the exception-stack switch. It is not preserved
// across synchronous exceptions taken at EL1, and the return to EL0 zeroes it, so EL0 never
// reads a kernel value there.
#include "platform/aarch64/asm_defs.h"

// Entry of a vector that moves to the exception stack: frees x0 through TPIDRRO_EL0, then
// either stays on the current sp (when it already is on the exception stack: a fault inside
// a fault handler, or the semihosting fix-up during power-off, must not overwrite the outer
// handler's frames) or swaps sp with the exception stack top using sp/x0 arithmetic (no
// second scratch register). Saves x0, x1 and the interrupted sp and passes `kind` to the
// common code in x1.
.macro EXCEPTION_STACK_ENTRY kind
  msr tpidrro_el0, x0
  mrs x0, tpidr_el1
  ldr x0, [x0, #LICHEN_ARCH_CPU_EXCEPTION_STACK_TOP]
  sub x0, sp, x0                // sp - top: in [-size, 0) on the exception stack
  add x0, x0, #LICHEN_EXCEPTION_STACK_SIZE
  cmp x0, #LICHEN_EXCEPTION_STACK_SIZE
  b.lo 1f                       // already on it: nest below the current frame
  mrs x0, tpidr_el1
  ldr x0, [x0, #LICHEN_ARCH_CPU_EXCEPTION_STACK_TOP]
  add sp, sp, x0                // sp = old + new
  sub x0, sp, x0                // x0 = old sp
  sub sp, sp, x0                // sp = new (exception stack top)
  b 2f
1:
  mov x0, sp
2:
  sub sp, sp, #LICHEN_FRAME_SIZE
  str x0, [sp, #LICHEN_FRAME_SP]
  mrs x0, tpidrro_el0
  stp x0, x1, [sp, #0]
  mov x1, #\kind
  b lichen_exception_common
.endm

// One 128-byte vector slot.
.macro VECTOR_SLOT
  .balign 0x80
.endm

  .section .text.vectors, "ax"
  .balign 0x800                 // VBAR_EL1 requires 2 KiB alignment
  .global lichen_vectors
lichen_vectors:
  // Current EL with SP_EL0: the kernel never runs with SP_EL0 selected.
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_SP0
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_SP0
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_SP0
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_SP0

  // Current EL with SP_EL1: the kernel's own exceptions.
  VECTOR_SLOT                   // synchronous
  EXCEPTION_STACK_ENTRY LICHEN_EXC_SYNC
  VECTOR_SLOT                   // IRQ
  b lichen_irq_entry
  VECTOR_SLOT                   // FIQ (group 0 is never enabled)
  EXCEPTION_STACK_ENTRY LICHEN_EXC_FIQ
  VECTOR_SLOT                   // SError
  EXCEPTION_STACK_ENTRY LICHEN_EXC_SERROR

  // Lower EL, AArch64: user space.
  VECTOR_SLOT                   // synchronous: SVC, aborts, undefined instructions...
  b lichen_el0_sync
  VECTOR_SLOT                   // IRQ
  b lichen_el0_irq
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A64
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A64

  // Lower EL, AArch32: never supported.
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A32
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A32
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A32
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A32

// Saves x2-x30 and the exception registers below the x0/x1/sp already stored, then calls
// LichenHandleException(frame, kind). If it returns, the frame is restored and the interrupted
// code resumes on its own stack.
  .type lichen_exception_common, %function
lichen_exception_common:
  stp x2, x3, [sp, #16 * 1]
  stp x4, x5, [sp, #16 * 2]
  stp x6, x7, [sp, #16 * 3]
  stp x8, x9, [sp, #16 * 4]
  stp x10, x11, [sp, #16 * 5]
  stp x12, x13, [sp, #16 * 6]
  stp x14, x15, [sp, #16 * 7]
  stp x16, x17, [sp, #16 * 8]
  stp x18, x19, [sp, #16 * 9]
  stp x20, x21, [sp, #16 * 10]
  stp x22, x23, [sp, #16 * 11]
  stp x24, x25, [sp, #16 * 12]
  stp x26, x27, [sp, #16 * 13]
  stp x28, x29, [sp, #16 * 14]
  str x30, [sp, #LICHEN_FRAME_X30]
  mrs x2, elr_el1
  mrs x3, spsr_el1
  stp x2, x3, [sp, #LICHEN_FRAME_ELR]
  mrs x2, esr_el1
  mrs x3, far_el1
  stp x2, x3, [sp, #LICHEN_FRAME_ESR]
  mov x29, xzr                  // the handler's backtrace starts from the frame, not from here
  mov x0, sp
  bl LichenHandleException

  // Recovered: restore the (possibly updated) frame and return to the interrupted stack.
  ldp x2, x3, [sp, #LICHEN_FRAME_ELR]
  msr elr_el1, x2
  msr spsr_el1, x3
  ldp x2, x3, [sp, #16 * 1]
  ldp x4, x5, [sp, #16 * 2]
  ldp x6, x7, [sp, #16 * 3]
  ldp x8, x9, [sp, #16 * 4]
  ldp x10, x11, [sp, #16 * 5]
  ldp x12, x13, [sp, #16 * 6]
  ldp x14, x15, [sp, #16 * 7]
  ldp x16, x17, [sp, #16 * 8]
  ldp x18, x19, [sp, #16 * 9]
  ldp x20, x21, [sp, #16 * 10]
  ldp x22, x23, [sp, #16 * 11]
  ldp x24, x25, [sp, #16 * 12]
  ldp x26, x27, [sp, #16 * 13]
  ldp x28, x29, [sp, #16 * 14]
  ldr x30, [sp, #LICHEN_FRAME_X30]
  ldr x0, [sp, #8]              // x1 travels through the scratch register
  msr tpidrro_el0, x0
  ldr x0, [sp, #LICHEN_FRAME_SP]
  ldr x1, [sp, #0]
  mov sp, x0                    // back on the interrupted stack
  mov x0, x1
  mrs x1, tpidrro_el0
  eret
  .size lichen_exception_common, . - lichen_exception_common

// IRQ: the frame goes on the interrupted context's stack (see the top of this file).
  .type lichen_irq_entry, %function
lichen_irq_entry:
  sub sp, sp, #LICHEN_FRAME_SIZE
  stp x0, x1, [sp, #16 * 0]
  stp x2, x3, [sp, #16 * 1]
  stp x4, x5, [sp, #16 * 2]
  stp x6, x7, [sp, #16 * 3]
  stp x8, x9, [sp, #16 * 4]
  stp x10, x11, [sp, #16 * 5]
  stp x12, x13, [sp, #16 * 6]
  stp x14, x15, [sp, #16 * 7]
  stp x16, x17, [sp, #16 * 8]
  stp x18, x19, [sp, #16 * 9]
  stp x20, x21, [sp, #16 * 10]
  stp x22, x23, [sp, #16 * 11]
  stp x24, x25, [sp, #16 * 12]
  stp x26, x27, [sp, #16 * 13]
  stp x28, x29, [sp, #16 * 14]
  add x0, sp, #LICHEN_FRAME_SIZE
  stp x30, x0, [sp, #LICHEN_FRAME_X30]  // x30 and the interrupted sp
  mrs x0, elr_el1
  mrs x1, spsr_el1
  stp x0, x1, [sp, #LICHEN_FRAME_ELR]
  stp xzr, xzr, [sp, #LICHEN_FRAME_ESR]
  mov x0, sp
  bl LichenHandleIrq            // x29 still holds the interrupted frame pointer: backtraces
                                // from inside the handler continue into the interrupted code
  ldp x0, x1, [sp, #LICHEN_FRAME_ELR]
  msr elr_el1, x0
  msr spsr_el1, x1
  ldp x0, x1, [sp, #16 * 0]
  ldp x2, x3, [sp, #16 * 1]
  ldp x4, x5, [sp, #16 * 2]
  ldp x6, x7, [sp, #16 * 3]
  ldp x8, x9, [sp, #16 * 4]
  ldp x10, x11, [sp, #16 * 5]
  ldp x12, x13, [sp, #16 * 6]
  ldp x14, x15, [sp, #16 * 7]
  ldp x16, x17, [sp, #16 * 8]
  ldp x18, x19, [sp, #16 * 9]
  ldp x20, x21, [sp, #16 * 10]
  ldp x22, x23, [sp, #16 * 11]
  ldp x24, x25, [sp, #16 * 12]
  ldp x26, x27, [sp, #16 * 13]
  ldp x28, x29, [sp, #16 * 14]
  ldr x30, [sp, #LICHEN_FRAME_X30]
  add sp, sp, #LICHEN_FRAME_SIZE
  eret
  .size lichen_irq_entry, . - lichen_irq_entry

// Saves the user registers and ESR/FAR in the EL0 frame at the top of the task's kernel stack
// (el0.h, El0Frame); x29 = 0 so that kernel backtraces end here.
.macro EL0_ENTRY
  sub sp, sp, #LICHEN_EL0_FRAME_SIZE
  stp x0, x1, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 0]
  stp x2, x3, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 1]
  stp x4, x5, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 2]
  stp x6, x7, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 3]
  stp x8, x9, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 4]
  stp x10, x11, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 5]
  stp x12, x13, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 6]
  stp x14, x15, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 7]
  stp x16, x17, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 8]
  stp x18, x19, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 9]
  stp x20, x21, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 10]
  stp x22, x23, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 11]
  stp x24, x25, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 12]
  stp x26, x27, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 13]
  stp x28, x29, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 14]
  mrs x0, sp_el0
  stp x30, x0, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 15]
  mrs x0, elr_el1
  mrs x1, spsr_el1
  stp x0, x1, [sp, #LICHEN_EL0_FRAME_REGS + LICHEN_EL0_REGS_PC]
  mrs x0, esr_el1
  mrs x1, far_el1
  stp x0, x1, [sp, #0]
  mov x29, xzr
.endm

// Synchronous exception from EL0: LichenHandleEl0Sync(frame) runs on the task's stack (and
// may sleep, or end the task); then back to EL0.
  .type lichen_el0_sync, %function
lichen_el0_sync:
  EL0_ENTRY
  mov x0, sp
  bl LichenHandleEl0Sync
  b lichen_return_to_el0
  .size lichen_el0_sync, . - lichen_el0_sync

// IRQ from EL0: the normal IRQ path (which may switch tasks in irq::Exit()), then
// LichenEl0IrqExit(frame) (the return-to-user work, with IRQs on), then back to EL0.
  .type lichen_el0_irq, %function
lichen_el0_irq:
  EL0_ENTRY
  mov x0, xzr                   // LichenHandleIrq does not use the frame
  bl LichenHandleIrq
  mov x0, sp
  bl LichenEl0IrqExit
  b lichen_return_to_el0
  .size lichen_el0_irq, . - lichen_el0_irq

// Restores the EL0 frame at sp and returns to EL0, with sp back at the top of the task's
// kernel stack (where the next exception from EL0 will put its frame). IRQs masked.
// Only NZCV of the saved pstate is kept (EL0t, DAIF clear). TPIDRRO_EL0 (the vectors'
// scratch) is zeroed: nothing of the kernel stays in a register EL0 can read.
  .global lichen_return_to_el0
  .type lichen_return_to_el0, %function
lichen_return_to_el0:
  ldp x0, x1, [sp, #LICHEN_EL0_FRAME_REGS + LICHEN_EL0_REGS_PC]
  and x1, x1, #LICHEN_EL0_PSTATE_MASK
  msr elr_el1, x0
  msr spsr_el1, x1
  ldr x0, [sp, #LICHEN_EL0_FRAME_REGS + LICHEN_EL0_REGS_SP]
  msr sp_el0, x0
  msr tpidrro_el0, xzr
  ldp x2, x3, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 1]
  ldp x4, x5, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 2]
  ldp x6, x7, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 3]
  ldp x8, x9, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 4]
  ldp x10, x11, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 5]
  ldp x12, x13, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 6]
  ldp x14, x15, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 7]
  ldp x16, x17, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 8]
  ldp x18, x19, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 9]
  ldp x20, x21, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 10]
  ldp x22, x23, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 11]
  ldp x24, x25, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 12]
  ldp x26, x27, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 13]
  ldp x28, x29, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 14]
  ldr x30, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 15]
  ldp x0, x1, [sp, #LICHEN_EL0_FRAME_REGS + 16 * 0]
  add sp, sp, #LICHEN_EL0_FRAME_SIZE
  eret
  .size lichen_return_to_el0, . - lichen_return_to_el0

// void lichen_enter_el0(const El0Regs* regs, uintptr_t top): the first entry of a user thread.
// Builds the EL0 frame just below `top` (the current task's kernel stack top) from `regs` and
// returns to EL0 through it; IRQs masked. `regs` may lie in the very bytes the frame takes (a
// caller's local near the top of the stack): the copy is a memmove, 8 bytes at a time, in the
// direction that never overwrites what it has yet to read.
  .global lichen_enter_el0
  .type lichen_enter_el0, %function
lichen_enter_el0:
  sub x2, x1, #LICHEN_EL0_FRAME_SIZE
  add x3, x2, #LICHEN_EL0_FRAME_REGS     // destination of the registers
  mov x4, #(LICHEN_EL0_FRAME_SIZE - LICHEN_EL0_FRAME_REGS)
  cmp x3, x0
  b.hi 2f
1:                                      // destination below the source: forwards
  ldr x5, [x0], #8
  str x5, [x3], #8
  subs x4, x4, #8
  b.ne 1b
  b 4f
2:                                      // destination above the source: backwards
  add x0, x0, x4
  add x3, x3, x4
3:
  ldr x5, [x0, #-8]!
  str x5, [x3, #-8]!
  subs x4, x4, #8
  b.ne 3b
4:
  stp xzr, xzr, [x2]                    // ESR, FAR
  mov sp, x2
  b lichen_return_to_el0
  .size lichen_enter_el0, . - lichen_enter_el0

// FP/SIMD and thread state (el0.h, UserExtState): the kernel itself never touches V0-V31
// (-mgeneral-regs-only), so a user thread's values stay in the registers while it is in the
// kernel and move only when another user thread takes the CPU.
  .arch_extension fp
  .arch_extension simd

// void lichen_ext_state_save(void* ext)
  .global lichen_ext_state_save
  .type lichen_ext_state_save, %function
lichen_ext_state_save:
  stp q0, q1, [x0, #32 * 0]
  stp q2, q3, [x0, #32 * 1]
  stp q4, q5, [x0, #32 * 2]
  stp q6, q7, [x0, #32 * 3]
  stp q8, q9, [x0, #32 * 4]
  stp q10, q11, [x0, #32 * 5]
  stp q12, q13, [x0, #32 * 6]
  stp q14, q15, [x0, #32 * 7]
  stp q16, q17, [x0, #32 * 8]
  stp q18, q19, [x0, #32 * 9]
  stp q20, q21, [x0, #32 * 10]
  stp q22, q23, [x0, #32 * 11]
  stp q24, q25, [x0, #32 * 12]
  stp q26, q27, [x0, #32 * 13]
  stp q28, q29, [x0, #32 * 14]
  stp q30, q31, [x0, #32 * 15]
  add x3, x0, #LICHEN_EXT_FPCR   // beyond stp's reach from x0
  mrs x1, fpcr
  mrs x2, fpsr
  stp x1, x2, [x3]
  mrs x1, tpidr_el0
  str x1, [x3, #LICHEN_EXT_TPIDR - LICHEN_EXT_FPCR]
  ret
  .size lichen_ext_state_save, . - lichen_ext_state_save

// void lichen_ext_state_load(const void* ext)
  .global lichen_ext_state_load
  .type lichen_ext_state_load, %function
lichen_ext_state_load:
  ldp q0, q1, [x0, #32 * 0]
  ldp q2, q3, [x0, #32 * 1]
  ldp q4, q5, [x0, #32 * 2]
  ldp q6, q7, [x0, #32 * 3]
  ldp q8, q9, [x0, #32 * 4]
  ldp q10, q11, [x0, #32 * 5]
  ldp q12, q13, [x0, #32 * 6]
  ldp q14, q15, [x0, #32 * 7]
  ldp q16, q17, [x0, #32 * 8]
  ldp q18, q19, [x0, #32 * 9]
  ldp q20, q21, [x0, #32 * 10]
  ldp q22, q23, [x0, #32 * 11]
  ldp q24, q25, [x0, #32 * 12]
  ldp q26, q27, [x0, #32 * 13]
  ldp q28, q29, [x0, #32 * 14]
  ldp q30, q31, [x0, #32 * 15]
  add x3, x0, #LICHEN_EXT_FPCR
  ldp x1, x2, [x3]
  msr fpcr, x1
  msr fpsr, x2
  ldr x1, [x3, #LICHEN_EXT_TPIDR - LICHEN_EXT_FPCR]
  msr tpidr_el0, x1
  ret
  .size lichen_ext_state_load, . - lichen_ext_state_load
