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
// TPIDRRO_EL0 is the scratch register of the exception-stack switch. It is not preserved
// across synchronous exceptions taken at EL1; once user space exists, the return-to-EL0
// path must reload it from the task.
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

  // Lower EL, AArch64: no user space yet.
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A64
  VECTOR_SLOT
  EXCEPTION_STACK_ENTRY LICHEN_EXC_LOWER_A64
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
