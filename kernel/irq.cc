#include "kernel/irq.h"

#include "kernel/cpu.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace.h"
#include "lib/assert.h"
#include "lib/sim_reset.h"

namespace lichen::irq {

namespace {
// Interrupt nesting depth per CPU. Only its own CPU writes it, with IRQs masked; reading it
// with IRQs enabled is safe because then it is 0 on whatever CPU the reader runs.
uint32_t g_depth[kMaxCpus];
}  // namespace

void Enter() {
  const uint32_t cpu = platform::ThisCpu();
  ++g_depth[cpu];
  // The seed's bug: the timer interrupt arrived while the scheduler state was borrowed.
  LICHEN_ASSERT(!ThisCpuLocalBorrowed(),
                "interrupt on CPU {} while its per-CPU state is borrowed (IRQs were not masked "
                "around a per-CPU update)",
                cpu);
}

void OnTimer() {
  sched::OnTimerInterrupt(AssumeIrqsOff());
}

void OnIpi() {
  IrqsOff irqs_off = AssumeIrqsOff();
  Shared(platform::ThisCpu()).counters.ipis_received.AddRelaxedOwner(1);
  trace::Record(platform::ThisCpu(), trace::Kind::kIpiReceived, 0, 0);
  smp::Drain(irqs_off);
}

void Exit() {
  const uint32_t cpu = platform::ThisCpu();
  LICHEN_ASSERT(g_depth[cpu] > 0, "irq::Exit without Enter on CPU {}", cpu);
  // Leave the handler before rescheduling: the next task runs outside interrupt context, and
  // this task's frame resumes here later (maybe on another CPU) only to return.
  if (--g_depth[cpu] == 0) sched::OnInterruptExit(AssumeIrqsOff());
}

bool InHandler() {
  return g_depth[platform::ThisCpu()] > 0;
}

}  // namespace lichen::irq

#if defined(LICHEN_HOST)
namespace lichen::irq {
namespace {
void ResetDepths() {
  for (uint32_t& depth : g_depth)
    depth = 0;
}
const ResetRegistrar g_reset_irq("irq", ResetStage::kAny, &ResetDepths);
}  // namespace
}  // namespace lichen::irq
#endif
