// Host fibers for the simulator: the minimal x86-64 (System V) context switch.
//
// A suspended fiber is just its stack pointer; its callee-saved registers, the MXCSR and the
// x87 control word sit on its own stack below the return address.

    .text
    .globl  lichen_sim_fiber_switch
    .type   lichen_sim_fiber_switch, @function
// void lichen_sim_fiber_switch(void** save_sp /* rdi */, void* load_sp /* rsi */)
lichen_sim_fiber_switch:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)        // save this fiber
    movq    %rsi, %rsp          // resume the other one
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .cfi_endproc
    .size   lichen_sim_fiber_switch, .-lichen_sim_fiber_switch

    .globl  lichen_sim_fiber_start
    .type   lichen_sim_fiber_start, @function
// First "return address" of a new fiber: calls r12(r13) on an aligned stack. Never returns.
lichen_sim_fiber_start:
    .cfi_startproc
    .cfi_undefined rip          // outermost frame for unwinders and debuggers
    movq    %r13, %rdi
    andq    $-16, %rsp
    callq   *%r12
    ud2
    .cfi_endproc
    .size   lichen_sim_fiber_start, .-lichen_sim_fiber_start

    .section .note.GNU-stack,"",@progbits
