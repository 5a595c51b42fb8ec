// expect: requires holding irqs_off 'g_irqs_off'
// The grant lasts as long as the guard: a token smuggled out of its scope does not satisfy
// the analysis, so this must not compile.
#include "kernel/base/percpu.h"
#include "kernel/lock/spinlock.h"

namespace lichen {

extern SpinLock g_lock;
extern PerCpu<int> g_counters;

void Probe() {
  IrqsOff leaked = [] {
    LockGuard<SpinLock> guard(g_lock);
    return guard.token();
  }();
  ++*g_counters.Borrow(leaked);
}

}  // namespace lichen
