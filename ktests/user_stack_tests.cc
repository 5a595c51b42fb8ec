// Task kernel stacks (kernel/base/platform_stack.h, platform/aarch64/kstack.cc): every task's
// stack lies in the TTBR1 stack region with an unmapped guard page below it, and a freed
// stack is unmapped everywhere. An overflow cannot be tested here by overflowing (the test
// would end the machine): the MMU is asked instead (AT S1E1R), and the overflow report itself
// is the CTest aarch64-task-stack-overflow (platform/aarch64/CMakeLists.txt).
#include "kernel/base/platform_stack.h"
#include "kernel/sched/sched.h"
#include "ktests/ktest.h"
#include "lib/atomic.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/kstack.h"
#include "platform/aarch64/sysreg.h"

namespace lichen {
namespace {

constexpr uintptr_t kPage = 4096;

bool Mapped(uintptr_t va) {
  return (aarch64::TranslateKernelRead(va) & aarch64::kParFault) == 0;
}

// Checks that [base, base + bytes) is a guarded stack: in the stack region, every page mapped
// to RAM the direct map also shows, the page below unmapped.
void CheckGuardedStack(const char* who, uintptr_t base, size_t bytes) {
  KTEST_CHECK(aarch64::InTaskStackRegion(base) && aarch64::InTaskStackRegion(base + bytes - 1),
              "{}: stack {:#x}+{:#x} is not in the task stack region", who, base, bytes);
  KTEST_CHECK(!Mapped(base - kPage), "{}: the guard page below {:#x} is mapped", who, base);
  for (uintptr_t va = base; va < base + bytes; va += kPage) {
    const uint64_t par = aarch64::TranslateKernelRead(va);
    KTEST_CHECK((par & aarch64::kParFault) == 0, "{}: stack page {:#x} is not mapped", who, va);
    // The stack is one block of the page allocator: the direct map reaches the same memory.
    const uint64_t pa = par & aarch64::kParAddressMask;
    const uint64_t alias = aarch64::TranslateKernelRead(aarch64::PhysToVirt(pa));
    KTEST_CHECK((alias & aarch64::kParAddressMask) == pa, "{}: {:#x} is not RAM", who, pa);
  }
}

struct StackProbe {
  Atomic<uintptr_t> base{0};
  Atomic<uint64_t> size{0};
  Atomic<uintptr_t> local{0};
};

void RecordStack(void* arg) {
  auto* probe = static_cast<StackProbe*>(arg);
  Task* self = sched::Current();
  volatile int on_stack = 0;
  probe->local.Store(reinterpret_cast<uintptr_t>(&on_stack), std::memory_order_relaxed);
  probe->size.Store(self->stack_size, std::memory_order_relaxed);
  probe->base.Store(reinterpret_cast<uintptr_t>(self->stack), std::memory_order_release);
}

}  // namespace

// The test's own task and a spawned one run on guarded stacks; the spawned one's is unmapped
// once it has been joined (and so freed).
KTEST(user_task_stack_guard_page) {
  Task* self = sched::Current();
  CheckGuardedStack("test task", reinterpret_cast<uintptr_t>(self->stack), self->stack_size);
  volatile int here = 0;
  const auto sp = reinterpret_cast<uintptr_t>(&here);
  KTEST_CHECK(sp - reinterpret_cast<uintptr_t>(self->stack) < self->stack_size,
              "the test runs at {:#x}, outside its own stack", sp);

  StackProbe probe;
  Task* task = ktest::Spawn("stack-probe", &RecordStack, &probe);
  sched::Join(task);
  const uintptr_t base = probe.base.Load(std::memory_order_acquire);
  const size_t size = probe.size.Load(std::memory_order_relaxed);
  const uintptr_t local = probe.local.Load(std::memory_order_relaxed);
  KTEST_CHECK(local - base < size, "the probe ran at {:#x}, outside its stack {:#x}", local, base);
  KTEST_CHECK(size == platform::TaskStackBytes(sched::kDefaultStackSize), "probe stack {} bytes",
              size);
  // Joined and freed: no page of it may still translate, on this CPU or any other (the free
  // invalidated the TLBs of every CPU with TLBI ...IS).
  for (uintptr_t va = base; va < base + size; va += kPage)
    KTEST_CHECK(!Mapped(va), "page {:#x} of a freed stack is still mapped", va);
}

// AllocTaskStack/FreeTaskStack directly: every size up to the largest, distinct slots, slots
// reused after a free, sizes the platform cannot map refused.
KTEST(user_task_stack_alloc_free) {
  constexpr int kStacks = 24;
  void* stacks[kStacks];
  size_t sizes[kStacks];
  for (int i = 0; i < kStacks; ++i) {
    sizes[i] = platform::TaskStackBytes(size_t{4096} << (i % 7));  // 4 KiB .. 256 KiB
    const Result<void*> s = platform::AllocTaskStack(sizes[i]);
    KTEST_CHECK(s.ok(), "AllocTaskStack({}) failed: {}", sizes[i], s.error());
    stacks[i] = s.value();
    CheckGuardedStack("AllocTaskStack", reinterpret_cast<uintptr_t>(stacks[i]), sizes[i]);
    // Writable, and no two stacks overlap (each write lands in its own memory).
    *static_cast<volatile uint64_t*>(stacks[i]) = static_cast<uint64_t>(i);
  }
  for (int i = 0; i < kStacks; ++i) {
    KTEST_CHECK(*static_cast<volatile uint64_t*>(stacks[i]) == static_cast<uint64_t>(i),
                "stack {} was overwritten", i);
  }
  KTEST_CHECK(platform::AllocTaskStack(512 * 1024).error() == Error::kInvalidArgument,
              "a stack as large as a slot leaves no guard: must be refused");
  KTEST_CHECK(platform::AllocTaskStack(12 * 1024).error() == Error::kInvalidArgument,
              "a size that is not a TaskStackBytes value must be refused");
  for (int i = 0; i < kStacks; ++i) {
    platform::FreeTaskStack(stacks[i], sizes[i]);
    const auto base = reinterpret_cast<uintptr_t>(stacks[i]);
    for (uintptr_t va = base; va < base + sizes[i]; va += kPage)
      KTEST_CHECK(!Mapped(va), "page {:#x} of a freed stack is still mapped", va);
  }
  // Far more allocations than slots would hold if frees did not return them.
  for (uint32_t i = 0; i < 2 * aarch64::kTaskStackSlots; ++i) {
    const Result<void*> s = platform::AllocTaskStack(4096);
    KTEST_CHECK(s.ok(), "allocation {} failed: {} (are slots leaking?)", i, s.error());
    platform::FreeTaskStack(s.value(), 4096);
  }
}

}  // namespace lichen
