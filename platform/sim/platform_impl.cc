// kernel/base/platform.h for the simulator: the CPU, IRQ, timer, IPI, context and time functions
// the kernel core calls, on top of the machine (machine.cc).
#include "kernel/base/platform.h"
#include "kernel/base/platform_stack.h"
#include "kernel/mm/kmem.h"

#include "lib/assert.h"
#include "platform/sim/machine.h"

// ---- kernel/base/platform.h for the simulator ---------------------------------------------------

namespace lichen::platform {

using sim::CpuState;
using sim::Cur;
using sim::g_sim;
using sim::kNoCpu;

namespace {
bool OnCpu() {
  return g_sim != nullptr && g_sim->current != kNoCpu;
}
}  // namespace

// Outside a simulation (host unit tests of core pieces) the host thread acts as CPU 0 with
// IRQs masked, and nothing interleaves.
CpuId ThisCpu() {
  if (!OnCpu()) return 0;
  const CpuId id = g_sim->current;
  // With IRQs on, an interrupt may land right after the read, as on hardware, and the task
  // may move to another CPU before it uses the id: a preemption point, so that code reading
  // per-CPU identity before masking IRQs is exposed (lockdep did, found by the QEMU soak;
  // without this point no simulated run could reach that window).
  if (!Cur().irqs_masked) sim::InterleaveHook();
  return id;
}

uint32_t CpuCount() {
  return g_sim == nullptr ? 1 : g_sim->options.ncpus;
}

IrqState SaveAndMaskIrqs() {
  if (!OnCpu()) return IrqState{true};
  sim::VCpu& cpu = Cur();
  // Plain (non-atomic) writes bypass the store buffer, so a store still buffered when the
  // memory it targets is freed and reused (the heap and every lock mask IRQs first) would
  // land on the new contents; a real CPU keeps its own stores in program order. Draining here
  // is always allowed (a buffer may empty at any time) and leaves the lock-free windows alone.
  sim::DrainStores(cpu);
  const IrqState old{cpu.irqs_masked};
  cpu.irqs_masked = true;
  return old;
}

void RestoreIrqs(IrqState state) {
  if (!OnCpu()) return;
  if (state.was_masked) {
    Cur().irqs_masked = true;
    return;
  }
  Cur().irqs_masked = false;
  // Unmasking is a preemption point: a pending interrupt is taken right here.
  sim::InterleaveHook();
}

bool IrqsMasked() {
  return !OnCpu() || Cur().irqs_masked;
}

void SendIpi(CpuMask targets) {
  sim::Sim& s = *g_sim;
  for (uint32_t target : targets) {
    if (target >= s.cpus.size()) continue;
    const uint64_t latency =
        s.rng.Range(s.options.ipi_latency_min_ns, s.options.ipi_latency_max_ns);
    sim::Mix(sim::Event::kIpiSent, target);
    if (latency == 0) {
      s.cpus[target].ipi_pending = true;
    } else {
      s.ipis.push_back(sim::InFlightIpi{s.now + latency, target});
    }
  }
}

void InitContext(Context& ctx, void* stack_base, size_t stack_size, ContextEntry entry, void* arg) {
  sim::FiberInit(ctx, stack_base, stack_size, entry, arg);
}

// Task stacks (kernel/base/platform_stack.h): one block of the core's page allocator, as the
// scheduler allocated them before the platform owned them. No guard page: the host's
// sanitizers watch the simulated stacks (fiber.cc annotates every switch). Here rather than
// in a file of its own so that the static library's link always pulls it in with the rest.
namespace {
uint32_t StackOrder(size_t bytes) {
  uint32_t order = 0;
  while ((size_t{4096} << order) < bytes)
    ++order;
  return order;
}
}  // namespace

Result<void*> AllocTaskStack(size_t bytes) {
  if (bytes != TaskStackBytes(bytes)) return Error::kInvalidArgument;
  const uintptr_t stack = LICHEN_TRY(mm::Pages().AllocPages(StackOrder(bytes)));
  return reinterpret_cast<void*>(stack);
}

void FreeTaskStack(void* base, size_t bytes) {
  mm::Pages().FreePages(reinterpret_cast<uintptr_t>(base), StackOrder(bytes));
}

void SwitchContext(Context& save, const Context& load) {
  // The task leaving may run next on another CPU: it must find its own stores there.
  sim::DrainStores(Cur());
  if (g_sim->options.switch_cost_ns != 0) sim::Occupy(g_sim->options.switch_cost_ns);
  sim::VCpu& cpu = Cur();
  // `save` names the running context: carry its stack bounds over (the boot context becomes
  // the idle task's context on its first switch away).
  if (&save != cpu.running) {
    save.stack_base = cpu.running->stack_base;
    save.stack_size = cpu.running->stack_size;
  }
  cpu.running = const_cast<Context*>(&load);
  sim::FiberSwitch(save, load);
}

uint64_t Now() {
  return g_sim == nullptr ? 0 : g_sim->now;
}

void ArmTimer(uint64_t deadline_ns) {
  if (!OnCpu()) return;
  Cur().timer_armed = true;
  Cur().timer_deadline = deadline_ns;
}

void DisarmTimer() {
  if (!OnCpu()) return;
  Cur().timer_armed = false;
}

void WaitForInterrupt() {
  sim::VCpu& cpu = Cur();
  sim::DrainStores(cpu);
  cpu.state = CpuState::kHalted;
  cpu.halted_since = g_sim->now;
  sim::Pause();
  Cur().state = CpuState::kRunnable;
}

void CpuRelax() {
  if (!OnCpu()) return;
  sim::VCpu& cpu = Cur();
  cpu.points_since_relax = 0;
  cpu.relax_epoch = g_sim->epoch;
  sim::Pause();
  sim::DeliverInterrupts();
}

}  // namespace lichen::platform
