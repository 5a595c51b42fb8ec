// The register frame that vectors.S saves on every exception, and the C++ handlers it calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/aarch64/asm_defs.h"

namespace lichen::aarch64 {

// Saved state of the interrupted context. For IRQs it lives on the interrupted context's own
// stack (so a context switch inside irq::Exit() carries it along with the task); for
// synchronous exceptions and SErrors it lives on this CPU's exception stack.
struct ExceptionFrame {
  uint64_t x[31];  // x0..x30 at the moment of the exception
  uint64_t sp;     // the interrupted stack pointer (SP_EL1)
  uint64_t elr;    // ELR_EL1: where the interrupted code resumes
  uint64_t spsr;   // SPSR_EL1: its PSTATE (DAIF, NZCV, EL, SP selection)
  uint64_t esr;    // ESR_EL1 (synchronous exceptions and SErrors; 0 for IRQs)
  uint64_t far;    // FAR_EL1 (synchronous exceptions and SErrors; 0 for IRQs)
};

static_assert(sizeof(ExceptionFrame) == LICHEN_FRAME_SIZE, "asm_defs.h: frame size");
static_assert(offsetof(ExceptionFrame, x[30]) == LICHEN_FRAME_X30, "asm_defs.h: x30");
static_assert(offsetof(ExceptionFrame, sp) == LICHEN_FRAME_SP, "asm_defs.h: sp");
static_assert(offsetof(ExceptionFrame, elr) == LICHEN_FRAME_ELR, "asm_defs.h: elr");
static_assert(offsetof(ExceptionFrame, spsr) == LICHEN_FRAME_SPSR, "asm_defs.h: spsr");
static_assert(offsetof(ExceptionFrame, esr) == LICHEN_FRAME_ESR, "asm_defs.h: esr");
static_assert(offsetof(ExceptionFrame, far) == LICHEN_FRAME_FAR, "asm_defs.h: far");

// Which vector was taken (values from asm_defs.h).
enum class ExceptionKind : uint64_t {
  kSync = LICHEN_EXC_SYNC,
  kSError = LICHEN_EXC_SERROR,
  kFiq = LICHEN_EXC_FIQ,
  kSp0 = LICHEN_EXC_SP0,
  kLowerA64 = LICHEN_EXC_LOWER_A64,
  kLowerA32 = LICHEN_EXC_LOWER_A32,
};

}  // namespace lichen::aarch64

extern "C" {
// IRQ from EL1: acknowledge, dispatch, EOI, irq::Exit(). Returns to vectors.S, which restores
// `frame` (possibly much later and on another CPU, if irq::Exit() switched tasks).
void LichenHandleIrq(lichen::aarch64::ExceptionFrame* frame);
// Every other exception. Returns only for the one recoverable case (a semihosting call with
// semihosting disabled); otherwise reports and powers off.
void LichenHandleException(lichen::aarch64::ExceptionFrame* frame, uint64_t kind);
}
