// expect: acquiring [a-z_]+ 'g_irqs_off' that is already held
// Code that already holds g_irqs_off must say so (the IrqsOff form): a saving guard there
// would end the capability with its scope although IRQs stay masked for the caller.
#include "kernel/lock/spinlock.h"

namespace lichen {

extern SpinLock g_lock;

void Probe(IrqsOff) TA_REQ(g_irqs_off) {
  LockGuard<SpinLock> guard(g_lock);
}

}  // namespace lichen
