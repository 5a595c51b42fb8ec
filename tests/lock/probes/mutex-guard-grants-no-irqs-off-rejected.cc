// expect: requires holding irqs_off 'g_irqs_off'
// Only a guard that masks IRQs grants g_irqs_off: one over a lock without an IRQ policy
// (here a stand-in for Mutex, which lives above this part) does not.
#include "kernel/base/percpu.h"
#include "kernel/lock/spinlock.h"

namespace lichen {

class TA_CAP("mutex") SleepingLock {
 public:
  void Lock() TA_ACQ();
  void Unlock() TA_REL();
};

extern SleepingLock g_lock;
extern PerCpu<int> g_counters;
IrqsOff SomeToken();

void Probe() {
  LockGuard<SleepingLock> guard(g_lock);
  ++*g_counters.Borrow(SomeToken());
}

}  // namespace lichen
