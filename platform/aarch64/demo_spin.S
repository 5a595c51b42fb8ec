// Register-integrity spin loop for the bring-up demo (demo.cc).
//
// uint64_t lichen_demo_register_spin(uint64_t seed, uint64_t iterations)
//
// Loads x2-x16, x18-x28 and x30 with seed + n (n = the register number) and then, `iterations`
// times, checks every one of them, the frame pointer and the stack pointer. Runs with IRQs
// enabled, so timer interrupts preempt it (the demo switches contexts inside irq::Exit() and
// resumes it later, often on another CPU): any register the IRQ path or the context switch
// failed to preserve shows up here. Returns 0 if all held, else the number of the first
// register found wrong (29 for the frame pointer, 31 for sp). x17 is the scratch register.

// Checks register x\n against seed + \n; on mismatch returns \n.
.macro CHECK_REG n
  add x17, x0, #\n
  cmp x\n, x17
  b.ne .Lbad_\n
.endm

.macro BAD_REG n
.Lbad_\n:
  mov x0, #\n
  b .Ldone
.endm

  .section .text.demo, "ax"
  .global lichen_demo_register_spin
  .type lichen_demo_register_spin, %function
lichen_demo_register_spin:
  stp x29, x30, [sp, #-96]!
  mov x29, sp
  stp x19, x20, [sp, #16]
  stp x21, x22, [sp, #32]
  stp x23, x24, [sp, #48]
  stp x25, x26, [sp, #64]
  stp x27, x28, [sp, #80]
  .irp n, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30
  add x\n, x0, #\n
  .endr
.Lloop:
  .irp n, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30
  CHECK_REG \n
  .endr
  mov x17, sp
  cmp x17, x29                  // sp and the frame pointer must still be what we set
  b.ne .Lbad_sp
  subs x1, x1, #1
  b.ne .Lloop
  mov x0, #0
  b .Ldone
  .irp n, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30
  BAD_REG \n
  .endr
.Lbad_sp:
  mov x0, #31
.Ldone:
  ldp x19, x20, [sp, #16]
  ldp x21, x22, [sp, #32]
  ldp x23, x24, [sp, #48]
  ldp x25, x26, [sp, #64]
  ldp x27, x28, [sp, #80]
  ldp x29, x30, [sp], #96
  ret
  .size lichen_demo_register_spin, . - lichen_demo_register_spin
