// Tests of the kernel-wide instances (kernel/mm/kmem.h).
#include "kernel/mm/kmem.h"

#include <gtest/gtest.h>

#include "kernel/base/debug.h"
#include "tests/mm/mm_test_util.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;

using mm_test::kMiB;

// The simulated RAM of this test process: InitMemory may run once per process.
HostBuffer& KernelRam() {
  static HostBuffer ram(8 * kMiB, 4 * kMiB);
  return ram;
}

void EnsureKernelMemory() {
  static const bool initialized = [] {
    InitMemory(KernelRam().base(), KernelRam().bytes());
    return true;
  }();
  (void)initialized;
}

TEST(KernelMemoryDeathTest, AccessorsPanicBeforeInitMemory) {
  if (!kDebugChecks || MemoryInitialized()) GTEST_SKIP() << "needs a process before InitMemory";
  EXPECT_DEATH((void)Pages(), "Pages\\(\\) before InitMemory");
  EXPECT_DEATH((void)KernelHeap(), "KernelHeap\\(\\) before InitMemory");
}

TEST(KernelMemoryDeathTest, InitMemoryRejectsAnUnusableRegion) {
  if (MemoryInitialized()) GTEST_SKIP() << "needs a process before InitMemory";
  EXPECT_DEATH(InitMemory(KernelRam().base(), 4096), "InitMemory.*InvalidArgument");
}

TEST(KernelMemoryDeathTest, InitMemoryTwicePanics) {
  EnsureKernelMemory();
  EXPECT_DEATH(InitMemory(KernelRam().base(), KernelRam().bytes()), "InitMemory called twice");
}

TEST(KernelMemory, InitMemoryBuildsThePageAllocatorAndTheHeap) {
  EnsureKernelMemory();
  EXPECT_TRUE(MemoryInitialized());
  EXPECT_EQ(Pages().TotalBytes(), 8 * kMiB - 4096);
  EXPECT_TRUE(Pages().Contains(KernelRam().base()));

  const size_t free_before = Pages().FreeBytes();
  void* object = KernelHeap().Alloc(100).value();
  EXPECT_TRUE(Pages().Contains(reinterpret_cast<uintptr_t>(object)));
  EXPECT_EQ(Pages().FreeBytes(), free_before - 4096);  // the heap took a slab page
  const uintptr_t page = Pages().AllocPages(2).value();
  EXPECT_EQ(Pages().FreeBytes(), free_before - 4096 - 4 * 4096);
  Pages().FreePages(page, 2);
  KernelHeap().Free(object);
  KernelHeap().Trim();
  EXPECT_EQ(Pages().FreeBytes(), free_before);
}

TEST(KernelMemory, MoreRegionsCanBeAddedLater) {
  EnsureKernelMemory();
  static HostBuffer bank(2 * kMiB, 4096);  // a second RAM bank, for the process's lifetime
  const size_t total_before = Pages().TotalBytes();
  ASSERT_TRUE(Pages().AddRegion(bank.base(), bank.bytes()).ok());
  EXPECT_EQ(Pages().TotalBytes(), total_before + 2 * kMiB - 4096);
  Pages().CheckInvariants();
}

}  // namespace
}  // namespace lichen::mm
