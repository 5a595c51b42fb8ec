// UserRegs: a user thread's general-purpose registers while it is in the kernel.
//
// The platform's entry code fills it on every entry from user space (a syscall, a fault, an
// interrupt taken from EL0) and reloads the user's registers from it on the way back, so the
// core reads a syscall's arguments and writes its result here, and clone copies it for the
// child. On aarch64 it lives at the top of the task's kernel stack while the task is in the
// kernel (platform/aarch64's vectors); in the simulator, "user code" is a host function that
// owns one and passes it in (platform/sim/user.h).
//
// FP/SIMD registers, FPCR/FPSR and TPIDR_EL0 are not here: they are platform state the core
// never reads (platform::UserExtState, kernel/base/platform_user.h), switched by the platform.
//
// This header is part of `base` (kernel/CMakeLists.txt) so that the platform interface
// (platform_user.h) and every part above it can name the type; it holds data only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lichen {

struct UserRegs {
  uint64_t x[31];   // x0..x30 (x30 is the link register)
  uint64_t sp;      // SP_EL0
  uint64_t pc;      // ELR_EL1: where the thread resumes
  uint64_t pstate;  // SPSR_EL1 as saved on entry (EL0t, with the user's NZCV flags)
};

// The aarch64 vectors lay the frame out by hand (stp/ldp offsets): keep it exactly this.
static_assert(sizeof(UserRegs) == 34 * 8);
static_assert(offsetof(UserRegs, sp) == 31 * 8);
static_assert(offsetof(UserRegs, pc) == 32 * 8);
static_assert(offsetof(UserRegs, pstate) == 33 * 8);

// The syscall convention on arm64 (Linux's): number in x8, arguments in x0..x5, result in x0.
inline constexpr int kSyscallNumberReg = 8;
inline constexpr int kSyscallResultReg = 0;

// PSTATE of a thread entering EL0 for the first time: EL0t (M[3:0] = 0), every exception
// unmasked (D, A, I, F clear), flags clear.
inline constexpr uint64_t kUserPstateInitial = 0;

}  // namespace lichen
