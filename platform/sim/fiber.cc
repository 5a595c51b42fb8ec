#include "platform/sim/fiber.h"

#include <pthread.h>

#include <cstdint>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LICHEN_SIM_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#endif

#if !defined(__x86_64__)
#error "platform/sim has a context switch for x86-64 hosts only (fiber_x86_64.S)"
#endif

extern "C" void lichen_sim_fiber_switch(void** save_sp, void* load_sp);
extern "C" void lichen_sim_fiber_start();

namespace lichen::sim {

namespace {

struct StartArgs {
  platform::ContextEntry entry;
  void* arg;
};

// What a new fiber runs first: finish ASan's switch, then the entry.
void FiberMain(void* p) {
#if defined(LICHEN_SIM_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  auto* start = static_cast<StartArgs*>(p);
  start->entry(start->arg);
  __builtin_trap();  // a context entry must never return
}

}  // namespace

void FiberInit(platform::Context& ctx, void* stack_base, size_t stack_size,
               platform::ContextEntry entry, void* arg) {
  auto top = reinterpret_cast<uintptr_t>(stack_base) + stack_size;
  top &= ~uintptr_t{15};
  // The entry and its argument live at the top of the fiber's own stack.
  top -= sizeof(StartArgs);
  top &= ~uintptr_t{15};
  auto* start = reinterpret_cast<StartArgs*>(top);
  start->entry = entry;
  start->arg = arg;
  // Frame popped by lichen_sim_fiber_switch: [mxcsr|fpcw] r15 r14 r13 r12 rbx rbp, return.
  auto* sp = reinterpret_cast<uint64_t*>(top);
  *--sp = 0;  // padding: keeps the start routine's entry alignment as after a call
  *--sp = reinterpret_cast<uint64_t>(&lichen_sim_fiber_start);
  *--sp = 0;                                       // rbp
  *--sp = 0;                                       // rbx
  *--sp = reinterpret_cast<uint64_t>(&FiberMain);  // r12: function
  *--sp = reinterpret_cast<uint64_t>(start);       // r13: argument
  *--sp = 0;                                       // r14
  *--sp = 0;                                       // r15
  uint32_t control[2] = {0x1f80, 0x037f};          // default MXCSR and x87 control word
  *--sp = 0;
  std::memcpy(sp, control, sizeof(control));
  ctx.sp = sp;
  ctx.stack_base = stack_base;
  ctx.stack_size = stack_size;
}

void FiberSwitch(platform::Context& save, const platform::Context& load) {
#if defined(LICHEN_SIM_ASAN)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, load.stack_base, load.stack_size);
  lichen_sim_fiber_switch(&save.sp, load.sp);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  lichen_sim_fiber_switch(&save.sp, load.sp);
#endif
}

void FiberAdoptThreadStack(platform::Context& ctx) {
  pthread_attr_t attr;
  pthread_getattr_np(pthread_self(), &attr);
  void* base = nullptr;
  size_t size = 0;
  pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  ctx.stack_base = base;
  ctx.stack_size = size;
}

}  // namespace lichen::sim
