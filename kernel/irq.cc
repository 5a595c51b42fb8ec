#include "kernel/irq.h"

#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"
#include "lib/sim_reset.h"

namespace lichen::irq {

void Enter() {
  const uint32_t cpu = platform::ThisCpu();
  EnterHandler(AssumeIrqsOff());
  // The seed's bug: the timer interrupt arrived while the scheduler state was borrowed.
  LICHEN_ASSERT(!AnyPerCpuBorrowedHere(),
                "interrupt on CPU {} while its per-CPU state is borrowed (IRQs were not masked "
                "around a per-CPU update)",
                cpu);
}

void OnTimer() {
  sched::OnTimerInterrupt(AssumeIrqsOff());
}

void OnIpi() {
  IrqsOff irqs_off = AssumeIrqsOff();
  smp::NoteIpiReceived(irqs_off);
  sched::HandleMessages(irqs_off);
}

void Exit() {
  // Leave the handler before rescheduling: the next task runs outside interrupt context, and
  // this task's frame resumes here later (maybe on another CPU) only to return.
  if (LeaveHandler(AssumeIrqsOff()) == 0) sched::OnInterruptExit(AssumeIrqsOff());
}

}  // namespace lichen::irq
