// User space in the simulator: "user code" is a host function per thread.
//
// platform::EnterUser(regs) calls the program registered for regs.pc (a made-up address
// RegisterUserProgram hands out) with a copy of `regs` on the thread's kernel stack, and the
// program plays the CPU in EL0: it "executes instructions" with UserRun (virtual CPU time in
// small batches, entering the kernel through user::BeforeReturnToUser whenever an interrupt
// was taken meanwhile, as the exception return path of a real CPU does), makes system calls
// with UserSyscall (x8, x0..x5, then user::OnSyscall and BeforeReturnToUser), and touches
// user memory with UserLoad/UserStore/UserWord, which walk the address space as the MMU
// would and call user::OnPageFault for an absent or forbidden page. A program must never
// return: it ends with exit or exit_group (or is killed).
//
// The platform's user state (UserExtState) is the thread pointer, TPIDR_EL0: each virtual
// CPU has a live one that SwitchUserExtState saves and loads, so a test can check that each
// thread sees its own after switches and migrations (UserTls).
#pragma once

#include <cstdint>
#include <string>

#include "kernel/user/regs.h"
#include "lib/atomic.h"

namespace lichen::sim {

using UserProgram = void (*)(UserRegs& regs);

// A pc that makes EnterUser run `program`. Programs stay registered across runs (a program
// is a plain function); the same function gets the same pc.
uint64_t RegisterUserProgram(UserProgram program);

// Simulated user instructions for `ns` of CPU time (see above).
void UserRun(UserRegs& regs, uint64_t ns);

// A system call from user space: returns x0.
int64_t UserSyscall(UserRegs& regs, uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0,
                    uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0);

// User memory, as an EL0 load or store would reach it: a fault the kernel cannot resolve
// kills the thread's process (the call does not return then).
uint64_t UserLoad64(UserRegs& regs, uintptr_t addr);
void UserStore64(UserRegs& regs, uintptr_t addr, uint64_t value);
// The 32-bit word at `addr` (4-aligned), mapped writable, as an atomic the program may use
// for its own locks and futex words (through the kernel's direct map).
Atomic<uint32_t>& UserWord(UserRegs& regs, uintptr_t addr);

// The calling thread's TPIDR_EL0, as live on its CPU.
uint64_t UserTls();

// What processes wrote to the console since the run began.
const std::string& ConsoleOutput();
// platform::PowerOff's status, or -1 if it was not called in this run.
int PowerOffStatus();

}  // namespace lichen::sim
