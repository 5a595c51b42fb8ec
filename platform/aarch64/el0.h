// EL0 (user space) on aarch64: the frame the vectors save, the handlers they call, entering
// EL0 for the first time, and the FP/SIMD state of user threads (docs/aarch64.md, "Exceptions
// from EL0").
//
// An exception from EL0 saves an El0Frame at the top of the running task's kernel stack (SP_EL1
// is that top while EL0 runs) and runs on that stack, with the task: IRQs are unmasked for
// the handler, which may sleep, be preempted, migrate, or end the task. The handlers are
// registered at run time (SetEl0Handlers): the kernel proper registers the core's user-entry
// functions (kernel/user/entry.h), a ktest its own; with none registered an exception from
// EL0 is a fatal report.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/user/regs.h"
#include "platform/aarch64/asm_defs.h"

namespace lichen::aarch64 {

// The user registers: the core's UserRegs (x0-x30, SP_EL0, ELR_EL1 as pc, SPSR_EL1 as pstate,
// of which only NZCV goes back to EL0).
using El0Regs = UserRegs;

struct El0Frame {
  uint64_t esr;  // ESR_EL1 of a synchronous exception (0 for an IRQ)
  uint64_t far;  // FAR_EL1 of a synchronous exception
  El0Regs regs;
};

static_assert(sizeof(El0Frame) == LICHEN_EL0_FRAME_SIZE, "asm_defs.h: EL0 frame size");
static_assert(offsetof(El0Frame, regs) == LICHEN_EL0_FRAME_REGS, "asm_defs.h: EL0 regs");
static_assert(offsetof(El0Regs, sp) == LICHEN_EL0_REGS_SP, "asm_defs.h: EL0 sp");
static_assert(offsetof(El0Regs, pc) == LICHEN_EL0_REGS_PC, "asm_defs.h: EL0 pc");
static_assert(offsetof(El0Regs, pstate) == LICHEN_EL0_REGS_PSTATE, "asm_defs.h: EL0 pstate");

// Why user code faulted, other than a page fault (the handler turns it into a signal).
enum class El0FaultKind : uint8_t {
  kUndefined,      // undefined or trapped instruction (EC 0x00, 0x18...)
  kIllegalState,   // EC 0x0e: illegal execution state
  kPcAlignment,    // EC 0x22
  kSpAlignment,    // EC 0x26
  kDataAlignment,  // alignment fault on a data access (DFSC 0x21)
  kBreakpoint,     // BRK, breakpoint, step, watchpoint
  kBusError,       // synchronous external abort and other abort kinds
  kFpException,    // trapped floating-point exception (EC 0x2c)
};

const char* El0FaultKindName(El0FaultKind kind);

// What the vectors call. Each runs on the task's kernel stack with IRQs unmasked and may
// change `regs` (the registers EL0 resumes with).
struct El0Handlers {
  void (*syscall)(El0Regs& regs);  // SVC: x8 = number, x0..x5 = arguments, x0 = result
  void (*page_fault)(El0Regs& regs, uintptr_t addr, bool write, bool exec);
  void (*user_fault)(El0Regs& regs, El0FaultKind kind, uintptr_t addr);
  void (*before_return)(El0Regs& regs);  // last, before every return to EL0
};

// Makes `handlers` (static storage) the ones exceptions from EL0 use; nullptr: none (fatal).
// Returns the previous ones (a ktest restores them).
const El0Handlers* SetEl0Handlers(const El0Handlers* handlers);

// Enters EL0 with `regs` for the first time on this task: builds the frame just below
// `kernel_stack_top` (the top of the calling task's kernel stack, where every later exception
// from EL0 will put its frame) and returns from it. The current user translation (TTBR0) and
// FP/SIMD state are the caller's business. Never returns.
[[noreturn]] void EnterEl0(const El0Regs& regs, uintptr_t kernel_stack_top);

// lichen.elf (user.cc): makes the core's user entry points (kernel/user/entry.h) the handlers.
void InstallCoreEl0Handlers();

// A user thread's FP/SIMD and thread-pointer state, saved while another user thread runs.
struct alignas(16) UserExtState {
  unsigned __int128 v[32];
  uint64_t fpcr;
  uint64_t fpsr;
  uint64_t tpidr_el0;
  uint64_t reserved;
};
static_assert(sizeof(UserExtState) == LICHEN_EXT_STATE_SIZE, "asm_defs.h: ext state size");
static_assert(offsetof(UserExtState, fpcr) == LICHEN_EXT_FPCR, "asm_defs.h: fpcr");
static_assert(offsetof(UserExtState, tpidr_el0) == LICHEN_EXT_TPIDR, "asm_defs.h: tpidr");

// Zeroes `ext` (V0-V31, FPCR, FPSR) with TPIDR_EL0 = tls. Memory only: the registers are
// loaded from it when the thread is switched in (SwitchExtState).
void InitExtState(UserExtState& ext, uint64_t tls);
// Saves this CPU's FP/SIMD and TPIDR_EL0 into `prev` (if not null), then loads `next` (if
// not null). IRQs masked (the scheduler's switch hook).
void SwitchExtState(UserExtState* prev, const UserExtState* next);

}  // namespace lichen::aarch64

extern "C" {
void LichenHandleEl0Sync(lichen::aarch64::El0Frame* frame);
void LichenEl0IrqExit(lichen::aarch64::El0Frame* frame);
}
