// Context switch between kernel contexts (platform::SwitchContext / InitContext).
//
// A suspended context is its stack pointer: the callee-saved registers x19-x28, the frame
// pointer x29 and the return address x30 sit in a 96-byte switch frame at that address. The
// caller-saved registers need no saving (the switch is a function call), the kernel has no
// FP/SIMD state (-mgeneral-regs-only), and DAIF is not part of a context: SwitchContext is
// always called with IRQs masked and returns with them masked.
#include "platform/aarch64/asm_defs.h"

  .section .text.context, "ax"

// void lichen_switch_context(void** save_sp, void* load_sp)
// Pushes the switch frame, stores sp into *save_sp, loads load_sp and pops its frame. Nothing
// touches the old stack after the store, so once the store is visible another CPU may resume
// the saved context (the core publishes that with its own release/acquire ordering).
  .global lichen_switch_context
  .type lichen_switch_context, %function
lichen_switch_context:
  sub sp, sp, #LICHEN_SWITCH_FRAME_SIZE
  stp x19, x20, [sp, #16 * 0]
  stp x21, x22, [sp, #16 * 1]
  stp x23, x24, [sp, #16 * 2]
  stp x25, x26, [sp, #16 * 3]
  stp x27, x28, [sp, #16 * 4]
  stp x29, x30, [sp, #16 * 5]
  mov x9, sp
  str x9, [x0]
  mov sp, x1
  ldp x19, x20, [sp, #16 * 0]
  ldp x21, x22, [sp, #16 * 1]
  ldp x23, x24, [sp, #16 * 2]
  ldp x25, x26, [sp, #16 * 3]
  ldp x27, x28, [sp, #16 * 4]
  ldp x29, x30, [sp, #16 * 5]
  add sp, sp, #LICHEN_SWITCH_FRAME_SIZE
  ret
  .size lichen_switch_context, . - lichen_switch_context

// First code of a new context: InitContext() left a switch frame whose x30 points here, with
// x19 = entry and x20 = arg, and x29 = 0 (ends backtraces). IRQs are still masked.
  .global lichen_context_trampoline
  .type lichen_context_trampoline, %function
lichen_context_trampoline:
  mov x0, x20
  blr x19
  // The entry function must never return (a task leaves through the scheduler's exit path).
  bl LichenContextReturned
  b lichen_park
  .size lichen_context_trampoline, . - lichen_context_trampoline
