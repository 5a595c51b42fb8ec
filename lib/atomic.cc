#include "lib/atomic.h"

namespace lichen {

#if defined(LICHEN_INTERLEAVE_HOOK)
thread_local void (*g_interleave_hook)() = nullptr;
thread_local const MemoryModelHooks* g_memory_model = nullptr;
#endif

}  // namespace lichen
