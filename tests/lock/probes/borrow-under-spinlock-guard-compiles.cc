// A SpinLock guard grants g_irqs_off: per-CPU state is borrowed under it with its token, no
// second IrqGuard. Without the grant, Borrow's TA_REQ(g_irqs_off) would not compile.
#include "kernel/base/percpu.h"
#include "kernel/lock/spinlock.h"

namespace lichen {

extern SpinLock g_lock;
extern PerCpu<int> g_counters;
void NeedsIrqsOff(IrqsOff irqs_off) TA_REQ(g_irqs_off);

void Probe() {
  LockGuard<SpinLock> guard(g_lock);
  ++*g_counters.Borrow(guard.token());
  NeedsIrqsOff(guard.token());
}

// Under masked IRQs the guard takes the caller's token and leaves the capability held.
void ProbeAlreadyOff(IrqsOff irqs_off) TA_REQ(g_irqs_off) {
  {
    LockGuard<SpinLock> guard(g_lock, irqs_off);
    ++*g_counters.Borrow(guard.token());
  }
  NeedsIrqsOff(irqs_off);
}

}  // namespace lichen
