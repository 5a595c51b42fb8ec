#include "lib/atomic.h"

namespace lichen {

#if defined(LICHEN_INTERLEAVE_HOOK)
thread_local void (*g_interleave_hook)() = nullptr;
#endif

}  // namespace lichen
