// kernel/base/platform_user.h on aarch64, and the link from the EL0 vectors (el0.h) to the
// core's user entry points (kernel/user/entry.h).
#include "kernel/base/platform_user.h"

#include <string_view>

#include "kernel/sched/sched.h"
#include "kernel/sched/task.h"
#include "kernel/user/entry.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/el0.h"
#include "platform/aarch64/kernel_main.h"
#include "platform/aarch64/power.h"
#include "platform/aarch64/sysreg.h"

namespace lichen::platform {

static_assert(kUserExtStateSize == sizeof(aarch64::UserExtState), "platform_user.h: ext size");
static_assert(kUserExtStateAlign == alignof(aarch64::UserExtState), "platform_user.h: align");

void EnterUser(const UserRegs& regs) {
  // The frame goes at the top of this task's kernel stack, where every later exception from
  // EL0 puts its own (SP_EL1 is that top while EL0 runs).
  Task* self = sched::Current();
  const uintptr_t top = reinterpret_cast<uintptr_t>(self->stack) + self->stack_size;
  aarch64::EnterEl0(regs, top);
}

void InitUserExtState(void* ext, uint64_t tls) {
  aarch64::InitExtState(*static_cast<aarch64::UserExtState*>(ext), tls);
}

void CloneUserExtState(void* child_ext, bool set_tls, uint64_t tls) {
  auto* child = static_cast<aarch64::UserExtState*>(child_ext);
  // The parent's state is live in this CPU's registers: save a copy (masked, so that no switch
  // of user state runs between the reads).
  const IrqState irq = SaveAndMaskIrqs();
  aarch64::SwitchExtState(child, nullptr);
  RestoreIrqs(irq);
  if (set_tls) child->tpidr_el0 = tls;
}

void SwitchUserExtState(void* prev_ext, void* next_ext) {
  aarch64::SwitchExtState(static_cast<aarch64::UserExtState*>(prev_ext),
                          static_cast<const aarch64::UserExtState*>(next_ext));
}

void ConsoleWrite(const char* data, size_t len) {
  aarch64::console::Write(std::string_view(data, len));
}

void PowerOff(int status) {
  // The last process has ended: a trace= or ftrace= on the command line still gets its files
  // (`./lichen trace` of a user program), as the kernel's own workloads do.
  (void)aarch64::DumpTraces(aarch64::TheKernelOptions());
  aarch64::PowerOff(static_cast<aarch64::ExitCode>(static_cast<uint32_t>(status) & 0xff));
}

}  // namespace lichen::platform

namespace lichen::aarch64 {

namespace {

user::FaultKind CoreFaultKind(El0FaultKind kind) {
  switch (kind) {
    case El0FaultKind::kUndefined:
      return user::FaultKind::kUndefinedInstruction;
    case El0FaultKind::kIllegalState:
      return user::FaultKind::kIllegalState;
    case El0FaultKind::kPcAlignment:
      return user::FaultKind::kPcAlignment;
    case El0FaultKind::kSpAlignment:
      return user::FaultKind::kSpAlignment;
    case El0FaultKind::kDataAlignment:
      return user::FaultKind::kDataAlignment;
    case El0FaultKind::kBreakpoint:
      return user::FaultKind::kBreakpoint;
    case El0FaultKind::kBusError:
      return user::FaultKind::kSError;  // an external abort: SIGBUS, as Linux sends
    case El0FaultKind::kFpException:
      return user::FaultKind::kFpException;
  }
  return user::FaultKind::kOther;
}

void OnUserFault(El0Regs& regs, El0FaultKind kind, uintptr_t addr) {
  user::OnUserFault(regs, CoreFaultKind(kind), addr);
}

constexpr El0Handlers kCoreHandlers{&user::OnSyscall, &user::OnPageFault, &OnUserFault,
                                    &user::BeforeReturnToUser};

}  // namespace

void InstallCoreEl0Handlers() {
  (void)SetEl0Handlers(&kCoreHandlers);
}

}  // namespace lichen::aarch64
