// platform.h for aarch64: CPU identity, interrupt masking, IPIs, contexts, idle.
#include "kernel/base/platform.h"

#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/gic.h"
#include "platform/aarch64/image.h"
#include "platform/aarch64/sysreg.h"

// The platform's per-CPU tables and the core's (PerCpu, CpuMask) have one size: a CPU the
// platform brings up always has a core slot, and every core CPU id has a stack slot.
static_assert(LICHEN_AARCH64_MAX_CPUS == lichen::kMaxCpus, "asm_defs.h: LICHEN_AARCH64_MAX_CPUS");

extern "C" {
// Zeroed by boot.S with the rest of .bss; each CPU's TPIDR_EL1 points at its entry.
lichen::aarch64::ArchCpu lichen_arch_cpu[LICHEN_AARCH64_MAX_CPUS];
[[gnu::section(
    ".bss.stacks")]] lichen::aarch64::CpuStackSlot lichen_cpu_stacks[LICHEN_AARCH64_MAX_CPUS];

// context.S
void lichen_switch_context(void** save_sp, void* load_sp);
void lichen_context_trampoline();
}

namespace lichen::aarch64 {

namespace {

// CPUs online; only the boot CPU writes it (during bring-up, before KernelMain).
Atomic<uint32_t> g_started_count{1};

uintptr_t SlotBase(uint32_t cpu) {
  return reinterpret_cast<uintptr_t>(&lichen_cpu_stacks[cpu]);
}

}  // namespace

uintptr_t BootStackGuard(uint32_t cpu) {
  return SlotBase(cpu);
}
uintptr_t BootStackBase(uint32_t cpu) {
  return SlotBase(cpu) + LICHEN_PAGE_SIZE;
}
uintptr_t BootStackTop(uint32_t cpu) {
  return SlotBase(cpu) + LICHEN_BOOT_STACK_TOP_OFFSET;
}
uintptr_t ExceptionStackGuard(uint32_t cpu) {
  return BootStackTop(cpu);
}
uintptr_t ExceptionStackTop(uint32_t cpu) {
  return SlotBase(cpu) + LICHEN_EXCEPTION_STACK_TOP_OFFSET;
}

ArchCpu& ArchCpuOf(uint32_t cpu) {
  return lichen_arch_cpu[cpu];
}

uint32_t StartedCpuCount() {
  return g_started_count.Load(std::memory_order_acquire);
}

// Called by the boot CPU when a secondary has come online (start.cc).
void SetStartedCpuCount(uint32_t count) {
  g_started_count.Store(count, std::memory_order_release);
}

}  // namespace lichen::aarch64

namespace lichen::platform {

using aarch64::ThisArchCpu;

CpuId ThisCpu() {
  return ThisArchCpu().cpu;
}

uint32_t CpuCount() {
  return aarch64::StartedCpuCount();
}

IrqState SaveAndMaskIrqs() {
  const uint64_t daif = aarch64::ReadDaif();
  aarch64::MaskIrqs();
  return IrqState{(daif & aarch64::kDaifIrqBit) != 0};
}

void RestoreIrqs(IrqState state) {
  if (!state.was_masked) aarch64::UnmaskIrqs();
}

bool IrqsMasked() {
  return (aarch64::ReadDaif() & aarch64::kDaifIrqBit) != 0;
}

void SendIpi(CpuMask targets) {
  aarch64::gic::SendSgi(aarch64::gic::kIpiSgi, targets);
}

void InitContext(Context& ctx, void* stack_base, size_t stack_size, ContextEntry entry, void* arg) {
  // A switch frame at the top of the stack (16-byte aligned) that lichen_switch_context pops:
  // x19 = entry, x20 = arg, x29 = 0 (end of the frame chain), x30 = the trampoline.
  const uintptr_t top = (reinterpret_cast<uintptr_t>(stack_base) + stack_size) & ~uintptr_t{15};
  uint64_t* frame = reinterpret_cast<uint64_t*>(top - LICHEN_SWITCH_FRAME_SIZE);
  for (int i = 0; i < LICHEN_SWITCH_FRAME_SIZE / 8; ++i)
    frame[i] = 0;
  frame[0] = reinterpret_cast<uint64_t>(entry);                        // x19
  frame[1] = reinterpret_cast<uint64_t>(arg);                          // x20
  frame[11] = reinterpret_cast<uint64_t>(&lichen_context_trampoline);  // x30
  ctx.sp = frame;
  ctx.stack_base = stack_base;
  ctx.stack_size = stack_size;
}

void SwitchContext(Context& save, const Context& load) {
  static_assert(offsetof(Context, sp) == 0, "context.S stores the stack pointer at offset 0");
  lichen_switch_context(&save.sp, load.sp);
}

void WaitForInterrupt() {
  // Completes outstanding memory accesses, then sleeps until an interrupt is pending for this
  // CPU. WFI wakes on a pending IRQ even while PSTATE.I masks it; the caller then unmasks.
  asm volatile("dsb sy\n\twfi" ::: "memory");
}

void CpuRelax() {
  asm volatile("yield" ::: "memory");
}

}  // namespace lichen::platform
