// Exceptions from EL0 in C++: classify, call the registered handlers on the task's kernel stack
// with IRQs on, then the return-to-user work (el0.h).
#include "platform/aarch64/el0.h"

#include "lib/atomic.h"
#include "platform/aarch64/exception_frame.h"
#include "platform/aarch64/fatal.h"
#include "platform/aarch64/sysreg.h"

extern "C" {
[[noreturn]] void lichen_enter_el0(const lichen::aarch64::El0Regs* regs, uintptr_t top);
void lichen_ext_state_save(void* ext);
void lichen_ext_state_load(const void* ext);
}

namespace lichen::aarch64 {

namespace {

Atomic<const El0Handlers*> g_handlers{nullptr};

// ESR_EL1 exception classes from a lower EL (Arm ARM, ESR_ELx.EC).
constexpr uint64_t kEcUnknown = 0x00;
constexpr uint64_t kEcIllegalState = 0x0e;
constexpr uint64_t kEcSvc64 = 0x15;
constexpr uint64_t kEcInstructionAbortLower = 0x20;
constexpr uint64_t kEcPcAlignment = 0x22;
constexpr uint64_t kEcDataAbortLower = 0x24;
constexpr uint64_t kEcSpAlignment = 0x26;
constexpr uint64_t kEcFpException = 0x2c;
constexpr uint64_t kEcBreakpointLower = 0x30;
constexpr uint64_t kEcStepLower = 0x32;
constexpr uint64_t kEcWatchpointLower = 0x34;
constexpr uint64_t kEcBrk = 0x3c;

// Abort ISS: WnR (bit 6), CM (bit 8: a cache maintenance instruction, reported as a write but
// treated as a read, as Linux does) and the fault status code [5:0].
constexpr uint64_t kIssWnR = uint64_t{1} << 6;
constexpr uint64_t kIssCm = uint64_t{1} << 8;

// Translation, access flag and permission faults at any level: what demand paging resolves.
bool IsPageFault(uint64_t fsc) {
  const uint64_t kind = fsc & 0x3c;
  return kind == 0x04 || kind == 0x08 || kind == 0x0c;
}

const El0Handlers& Handlers(const El0Frame& frame) {
  const El0Handlers* h = g_handlers.Load(std::memory_order_acquire);
  if (h == nullptr) {
    // No user space registered: nothing may run at EL0. Report it like any fatal exception.
    MaskIrqs();
    ExceptionFrame f{};
    for (int i = 0; i < 31; ++i)
      f.x[i] = frame.regs.x[i];
    f.sp = frame.regs.sp;
    f.elr = frame.regs.pc;
    f.spsr = frame.regs.pstate;
    f.esr = frame.esr;
    f.far = frame.far;
    LichenHandleException(&f, LICHEN_EXC_LOWER_A64);
    __builtin_unreachable();  // an exception from EL0 is never the recoverable case
  }
  return *h;
}

void Fault(El0Frame& frame, El0FaultKind kind, uintptr_t addr) {
  Handlers(frame).user_fault(frame.regs, kind, addr);
}

}  // namespace

const char* El0FaultKindName(El0FaultKind kind) {
  switch (kind) {
    case El0FaultKind::kUndefined:
      return "undefined instruction";
    case El0FaultKind::kIllegalState:
      return "illegal execution state";
    case El0FaultKind::kPcAlignment:
      return "PC alignment";
    case El0FaultKind::kSpAlignment:
      return "SP alignment";
    case El0FaultKind::kDataAlignment:
      return "data alignment";
    case El0FaultKind::kBreakpoint:
      return "breakpoint";
    case El0FaultKind::kBusError:
      return "bus error";
    case El0FaultKind::kFpException:
      return "floating-point exception";
  }
  return "fault";
}

const El0Handlers* SetEl0Handlers(const El0Handlers* handlers) {
  return g_handlers.Exchange(handlers, std::memory_order_acq_rel);
}

void EnterEl0(const El0Regs& regs, uintptr_t kernel_stack_top) {
  MaskIrqs();
  // The frame is built in assembly: `regs` may well lie where the frame goes.
  lichen_enter_el0(&regs, kernel_stack_top);
}

void InitExtState(UserExtState& ext, uint64_t tls) {
  for (auto& v : ext.v)
    v = 0;
  ext.fpcr = 0;
  ext.fpsr = 0;
  ext.tpidr_el0 = tls;
  ext.reserved = 0;
}

void SwitchExtState(UserExtState* prev, const UserExtState* next) {
  if (prev != nullptr) lichen_ext_state_save(prev);
  if (next != nullptr) lichen_ext_state_load(next);
}

}  // namespace lichen::aarch64

using lichen::aarch64::El0FaultKind;
using lichen::aarch64::El0Frame;

extern "C" void LichenHandleEl0Sync(El0Frame* frame) {
  using namespace lichen::aarch64;
  // Entered with DAIF masked: the kernel's normal state is SErrors and IRQs taken.
  UnmaskSError();
  UnmaskIrqs();
  const uint64_t ec = (frame->esr >> 26) & 0x3f;
  const uint64_t iss = frame->esr & 0x1ffffff;
  El0Regs& regs = frame->regs;
  switch (ec) {
    case kEcSvc64:
      Handlers(*frame).syscall(regs);
      break;
    case kEcDataAbortLower:
    case kEcInstructionAbortLower: {
      const uint64_t fsc = iss & 0x3f;
      const bool exec = ec == kEcInstructionAbortLower;
      if (IsPageFault(fsc)) {
        const bool write = !exec && (iss & kIssWnR) != 0 && (iss & kIssCm) == 0;
        Handlers(*frame).page_fault(regs, frame->far, write, exec);
      } else if (fsc == 0x21) {
        Fault(*frame, El0FaultKind::kDataAlignment, frame->far);
      } else {
        Fault(*frame, El0FaultKind::kBusError, frame->far);
      }
      break;
    }
    case kEcPcAlignment:
      Fault(*frame, El0FaultKind::kPcAlignment, frame->far);
      break;
    case kEcSpAlignment:
      Fault(*frame, El0FaultKind::kSpAlignment, regs.sp);
      break;
    case kEcFpException:
      Fault(*frame, El0FaultKind::kFpException, regs.pc);
      break;
    case kEcBreakpointLower:
    case kEcStepLower:
    case kEcWatchpointLower:
    case kEcBrk:
      Fault(*frame, El0FaultKind::kBreakpoint, ec == kEcWatchpointLower ? frame->far : regs.pc);
      break;
    case kEcIllegalState:
      Fault(*frame, El0FaultKind::kIllegalState, regs.pc);
      break;
    case kEcUnknown:
    default:
      // Undefined instructions, trapped system register accesses, illegal execution state,
      // SVC from AArch32 (never entered): the program's fault, not the kernel's.
      Fault(*frame, El0FaultKind::kUndefined, regs.pc);
      break;
  }
  Handlers(*frame).before_return(regs);
  MaskIrqs();
}

extern "C" void LichenEl0IrqExit(El0Frame* frame) {
  using namespace lichen::aarch64;
  UnmaskSError();
  UnmaskIrqs();
  Handlers(*frame).before_return(frame->regs);
  MaskIrqs();
}
