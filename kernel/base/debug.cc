// The fault switches of kernel/base/debug.h. Their own file, so that the parts of the core that
// build on their own (the EEVDF run queue in tests/sched and bench/) can link them.
#include "kernel/base/debug.h"

#if defined(LICHEN_HOST)
namespace lichen {
Faults g_faults;
}  // namespace lichen
#endif
