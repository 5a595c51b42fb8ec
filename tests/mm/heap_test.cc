// Unit tests of the kernel heap (kernel/mm/heap.h).
#include "kernel/mm/heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <set>
#include <type_traits>
#include <vector>

#include "kernel/lock/spinlock.h"
#include "tests/mm/mm_test_util.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;

using mm_test::kMiB;

// What a request should reserve, worked out independently of the heap's code: the smallest
// power of two >= max(bytes, align, 16) up to 2048, else the smallest power-of-two page block.
size_t ExpectedBytes(size_t bytes, size_t align) {
  const size_t need = std::max({bytes, align, size_t{16}});
  if (need <= 2048) return std::bit_ceil(need);
  size_t block = 4096;
  while (block < bytes)
    block *= 2;
  return block;
}

using mm_test::FreeBlocks;

// The kernel's types: the heap's lock must be the IRQ-saving one (the seed's bug).
static_assert(std::is_same_v<Heap, BasicHeap<SpinLock, BasicPageAllocator<SpinLock>>>);
static_assert(std::is_same_v<PageAllocator, BasicPageAllocator<SpinLock>>);

class HeapTest : public ::testing::Test {
 protected:
  explicit HeapTest(size_t bytes = 8 * kMiB) : buffer_(bytes, 4 * kMiB) {
    pages_added_ = pages_.AddRegion(buffer_.base(), buffer_.bytes()).ok();
    initial_blocks_ = FreeBlocks(pages_);
  }
  void SetUp() override { ASSERT_TRUE(pages_added_); }
  void TearDown() override {
    heap_.CheckInvariants();
    pages_.CheckInvariants();
  }

  // After every live object is freed and Trim(), the page allocator is as it started.
  void ExpectPagesRestored() {
    heap_.Trim();
    EXPECT_EQ(heap_.BytesInUse(), 0u);
    EXPECT_EQ(heap_.Stats().slab_bytes, 0u);
    EXPECT_EQ(pages_.FreeBytes(), pages_.TotalBytes());
    EXPECT_EQ(FreeBlocks(pages_), initial_blocks_);
  }

  HostBuffer buffer_;
  PageAllocator pages_;
  Heap heap_{pages_};
  bool pages_added_ = false;
  std::vector<size_t> initial_blocks_;
};

TEST_F(HeapTest, EverySizeClass) {
  for (size_t bytes : {1,   15,  16,  17,  31,  32,  33,   63,   64,   65,   100,  128, 129,
                       255, 256, 257, 511, 512, 513, 1000, 1024, 1025, 2000, 2047, 2048}) {
    const Result<void*> p = heap_.Alloc(bytes);
    ASSERT_TRUE(p.ok()) << bytes;
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
    const size_t expected = ExpectedBytes(bytes, 16);
    EXPECT_EQ(addr % expected, 0u) << bytes << " bytes: objects are aligned to their class";
    EXPECT_EQ(heap_.AllocationBytes(p.value()), expected) << bytes;
    EXPECT_EQ(heap_.BytesInUse(), expected) << bytes;
    const uint32_t size_class = static_cast<uint32_t>(std::countr_zero(expected)) - 4;
    EXPECT_EQ(heap_.Stats().classes[size_class].objects_in_use, 1u) << bytes;
    // The whole reserved size is usable.
    mm_test::FillPattern(addr, expected, bytes);
    EXPECT_TRUE(mm_test::PatternIntact(addr, expected, bytes));
    heap_.Free(p.value());
    EXPECT_EQ(heap_.BytesInUse(), 0u);
  }
  ExpectPagesRestored();
}

TEST_F(HeapTest, ZeroBytesIsAMinimalObject) {
  void* a = heap_.Alloc(0).value();
  void* b = heap_.Alloc(0).value();
  EXPECT_NE(a, b);
  EXPECT_EQ(heap_.AllocationBytes(a), 16u);
  heap_.Free(a);
  heap_.Free(b);
  ExpectPagesRestored();
}

TEST_F(HeapTest, AlignmentUpToAPage) {
  std::vector<void*> live;
  for (size_t align = 1; align <= kMaxAlign; align *= 2) {
    for (size_t bytes : {1, 24, 100, 700, 2048, 3000, 5000, 20000}) {
      const Result<void*> p = heap_.Alloc(bytes, align);
      ASSERT_TRUE(p.ok()) << bytes << "/" << align;
      const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
      EXPECT_EQ(addr % align, 0u) << bytes << "/" << align;
      EXPECT_EQ(heap_.AllocationBytes(p.value()), ExpectedBytes(bytes, align))
          << bytes << "/" << align;
      EXPECT_EQ(BasicHeap<SpinLock>::ReservedBytes(bytes, align), ExpectedBytes(bytes, align));
      mm_test::FillPattern(addr, bytes, addr);
      live.push_back(p.value());
    }
  }
  for (void* p : live) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
    EXPECT_TRUE(mm_test::PatternIntact(addr, 1, addr));
    heap_.Free(p);
  }
  ExpectPagesRestored();
}

TEST_F(HeapTest, BadAlignmentIsInvalidArgument) {
  for (size_t align : {size_t{0}, size_t{3}, size_t{48}, size_t{8192}, size_t{1} << 40}) {
    const Result<void*> p = heap_.Alloc(64, align);
    ASSERT_FALSE(p.ok()) << align;
    EXPECT_EQ(p.error(), Error::kInvalidArgument) << align;
    EXPECT_EQ(BasicHeap<SpinLock>::ReservedBytes(64, align), 0u);
  }
  EXPECT_EQ(heap_.Stats().failed_allocations, 5u);
  EXPECT_EQ(heap_.BytesInUse(), 0u);
}

TEST_F(HeapTest, LargeAllocationsAreWholePageBlocks) {
  struct Case {
    size_t bytes;
    size_t block;
  };
  std::vector<void*> live;
  size_t expected_large = 0;
  for (const Case& c : {Case{2049, 4096}, Case{4096, 4096}, Case{4097, 8192},
                        Case{100000, 128 * 1024}, Case{4 * kMiB, 4 * kMiB}}) {
    const Result<void*> p = heap_.Alloc(c.bytes);
    ASSERT_TRUE(p.ok()) << c.bytes;
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
    EXPECT_EQ(addr % c.block, 0u) << c.bytes;
    EXPECT_EQ(heap_.AllocationBytes(p.value()), c.block) << c.bytes;
    mm_test::FillPagePattern(addr, c.block, addr);
    expected_large += c.block;
    live.push_back(p.value());
  }
  HeapStats stats = heap_.Stats();
  EXPECT_EQ(stats.large_bytes, expected_large);
  EXPECT_EQ(stats.large_allocations, live.size());
  EXPECT_EQ(stats.bytes_in_use, expected_large);
  EXPECT_EQ(stats.slab_bytes, 0u);
  EXPECT_EQ(pages_.FreeBytes(), pages_.TotalBytes() - expected_large);

  // Beyond the largest block: never satisfiable.
  EXPECT_EQ(heap_.Alloc(4 * kMiB + 1).error(), Error::kNoMemory);
  EXPECT_EQ(heap_.Alloc(SIZE_MAX).error(), Error::kNoMemory);
  EXPECT_EQ(BasicHeap<SpinLock>::ReservedBytes(4 * kMiB + 1, 16), 0u);

  for (void* p : live) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
    EXPECT_TRUE(mm_test::PagePatternIntact(addr, heap_.AllocationBytes(p), addr));
    heap_.Free(p);
  }
  stats = heap_.Stats();
  EXPECT_EQ(stats.large_bytes, 0u);
  EXPECT_EQ(stats.large_allocations, 0u);
  ExpectPagesRestored();
}

TEST_F(HeapTest, SlabObjectsAreDisjointAndFillTheirSlab) {
  // A 4 KiB slab of 64-byte objects: slot 0 holds the header, 63 slots are objects.
  std::set<uintptr_t> objects;
  for (int i = 0; i < 63; ++i)
    objects.insert(reinterpret_cast<uintptr_t>(heap_.Alloc(64).value()));
  EXPECT_EQ(objects.size(), 63u);
  EXPECT_EQ(*objects.rbegin() - *objects.begin(), 62u * 64);
  HeapStats stats = heap_.Stats();
  EXPECT_EQ(stats.classes[2].slabs, 1u);
  EXPECT_EQ(stats.classes[2].capacity, 63u);
  EXPECT_EQ(stats.slab_bytes, 4096u);
  // The 64th needs a second slab.
  objects.insert(reinterpret_cast<uintptr_t>(heap_.Alloc(64).value()));
  stats = heap_.Stats();
  EXPECT_EQ(stats.classes[2].slabs, 2u);
  EXPECT_EQ(stats.classes[2].objects_in_use, 64u);
  EXPECT_EQ(stats.bytes_in_use, 64u * 64);
  for (uintptr_t p : objects)
    heap_.Free(reinterpret_cast<void*>(p));
  ExpectPagesRestored();
}

TEST_F(HeapTest, BigClassesUseMultiPageSlabs) {
  // 1024-byte objects: 8 KiB slabs of 7; 2048-byte objects: 16 KiB slabs of 7.
  std::vector<void*> live;
  for (int i = 0; i < 7; ++i)
    live.push_back(heap_.Alloc(1024).value());
  for (int i = 0; i < 7; ++i)
    live.push_back(heap_.Alloc(2048).value());
  const HeapStats stats = heap_.Stats();
  EXPECT_EQ(stats.classes[6].slabs, 1u);
  EXPECT_EQ(stats.classes[6].capacity, 7u);
  EXPECT_EQ(stats.classes[7].slabs, 1u);
  EXPECT_EQ(stats.classes[7].capacity, 7u);
  EXPECT_EQ(stats.slab_bytes, 8192u + 16384u);
  for (void* p : live)
    heap_.Free(p);
  ExpectPagesRestored();
}

TEST_F(HeapTest, KeepsOneEmptySlabPerClassAndTrimReturnsIt) {
  const uint64_t page_allocs_before = pages_.Stats().allocations;
  for (int i = 0; i < 1000; ++i)
    heap_.Free(heap_.Alloc(32).value());
  // Ping-pong on a slab boundary costs the page allocator one call, not a thousand.
  EXPECT_EQ(pages_.Stats().allocations, page_allocs_before + 1);
  EXPECT_EQ(heap_.Stats().classes[1].slabs, 1u);
  EXPECT_EQ(heap_.Trim(), 4096u);
  EXPECT_EQ(heap_.Trim(), 0u);
  ExpectPagesRestored();
}

TEST_F(HeapTest, ReleasesEmptySlabsBeyondTheFirst) {
  std::vector<void*> live;
  for (int i = 0; i < 3 * 63; ++i)
    live.push_back(heap_.Alloc(64).value());
  EXPECT_EQ(heap_.Stats().classes[2].slabs, 3u);
  for (void* p : live)
    heap_.Free(p);
  EXPECT_EQ(heap_.Stats().classes[2].slabs, 1u);
  EXPECT_EQ(pages_.FreeBytes(), pages_.TotalBytes() - 4096);
  ExpectPagesRestored();
}

TEST_F(HeapTest, NewAndDeleteRunConstructorsAndDestructors) {
  static int live_objects = 0;
  struct Tracked {
    explicit Tracked(int v) : value(v) { ++live_objects; }
    ~Tracked() { --live_objects; }
    int value;
  };
  struct alignas(256) Aligned {
    char bytes[40];
  };
  Tracked* t = heap_.New<Tracked>(42).value();
  EXPECT_EQ(t->value, 42);
  EXPECT_EQ(live_objects, 1);
  Aligned* a = heap_.New<Aligned>().value();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 256, 0u);
  EXPECT_EQ(heap_.AllocationBytes(a), 256u);
  heap_.Delete(t);
  EXPECT_EQ(live_objects, 0);
  heap_.Delete(a);
  heap_.Delete<Tracked>(nullptr);
  heap_.Free(nullptr);

  struct Huge {
    char bytes[8 * kMiB];
  };
  const Result<Huge*> huge = heap_.New<Huge>();
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error(), Error::kNoMemory);
  ExpectPagesRestored();
}

class SmallHeapTest : public HeapTest {
 protected:
  SmallHeapTest() : HeapTest(kMiB) {}
};

TEST_F(SmallHeapTest, ExhaustionReturnsNoMemoryAndRecovers) {
  std::vector<void*> live;
  for (Result<void*> p = heap_.Alloc(128); p.ok(); p = heap_.Alloc(128))
    live.push_back(p.value());
  // 255 usable pages, 31 objects per slab.
  EXPECT_EQ(live.size(), 255u * 31);
  EXPECT_EQ(pages_.FreeBytes(), 0u);
  EXPECT_EQ(heap_.Alloc(16).error(), Error::kNoMemory);
  EXPECT_EQ(heap_.Alloc(8192).error(), Error::kNoMemory);

  // Freed slots are reused: exactly as many allocations succeed as objects were freed.
  std::vector<void*> kept;
  for (size_t i = 0; i < live.size(); ++i) {
    if (i % 2 == 0) {
      heap_.Free(live[i]);
    } else {
      kept.push_back(live[i]);
    }
  }
  const size_t freed = live.size() - kept.size();
  for (size_t i = 0; i < freed; ++i) {
    const Result<void*> p = heap_.Alloc(100);
    ASSERT_TRUE(p.ok()) << i;
    kept.push_back(p.value());
  }
  EXPECT_EQ(heap_.Alloc(128).error(), Error::kNoMemory);
  for (void* p : kept)
    heap_.Free(p);
  ExpectPagesRestored();
}

TEST_F(SmallHeapTest, EmptySlabsAreTrimmedWhenPagesRunOut) {
  // Leave an empty slab in every class, then ask for every page as 4 KiB blocks: the heap must
  // give its kept slabs back rather than fail.
  for (uint32_t c = 0; c < kSizeClassCount; ++c)
    heap_.Free(heap_.Alloc(ClassBytes(c)).value());
  EXPECT_GT(heap_.Stats().slab_bytes, 0u);
  std::vector<void*> pages;
  for (Result<void*> p = heap_.Alloc(4096); p.ok(); p = heap_.Alloc(4096))
    pages.push_back(p.value());
  EXPECT_EQ(pages.size(), 255u);
  EXPECT_EQ(heap_.Stats().slab_bytes, 0u);
  for (void* p : pages)
    heap_.Free(p);
  ExpectPagesRestored();
}

// Misuse is a panic that names the mistake.
class HeapDeathTest : public HeapTest {};

TEST_F(HeapDeathTest, DoubleFreeOfAnObject) {
  void* keep = heap_.Alloc(64).value();  // keeps the slab alive after the first free
  void* p = heap_.Alloc(64).value();
  heap_.Free(p);
  EXPECT_DEATH(heap_.Free(p), "double free of a 64-byte object");
  heap_.Free(keep);
}

TEST_F(HeapDeathTest, DoubleFreeOfALargeBlock) {
  void* p = heap_.Alloc(3 * 4096).value();
  heap_.Free(p);
  EXPECT_DEATH(heap_.Free(p), "lies in a free block");
}

TEST_F(HeapDeathTest, PointerInsideAnObject) {
  char* p = static_cast<char*>(heap_.Alloc(64).value());
  EXPECT_DEATH(heap_.Free(p + 16), "not the start of a 64-byte object");
  heap_.Free(p);
}

TEST_F(HeapDeathTest, PointerIntoASlabHeader) {
  void* p = heap_.Alloc(16).value();
  const uintptr_t slab = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{4095};
  EXPECT_DEATH(heap_.Free(reinterpret_cast<void*>(slab + 16)), "not the start of a 16-byte");
  heap_.Free(p);
}

TEST_F(HeapDeathTest, PointerInsideALargeBlock) {
  char* p = static_cast<char*>(heap_.Alloc(5000).value());
  EXPECT_DEATH(heap_.Free(p + 4096), "pointer inside a large allocation");
  heap_.Free(p);
}

TEST_F(HeapDeathTest, ForeignPointer) {
  int on_stack = 0;
  EXPECT_DEATH(heap_.Free(&on_stack), "outside every memory region");
}

TEST_F(HeapDeathTest, PagesTheHeapDidNotAllocate) {
  const uintptr_t page = pages_.AllocPages(0).value();
  EXPECT_DEATH(heap_.Free(reinterpret_cast<void*>(page)), "pages the heap did not allocate");
  pages_.FreePages(page, 0);
}

TEST_F(HeapDeathTest, HeapPagesFreedBehindItsBack) {
  void* large = heap_.Alloc(8192).value();
  EXPECT_DEATH(pages_.FreePages(reinterpret_cast<uintptr_t>(large), 1), "not its owner");
  heap_.Free(large);
}

TEST(HeapLifetimeDeathTest, DestroyedWithLiveObjects) {
  HostBuffer buffer(kMiB, kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  EXPECT_DEATH(
      {
        Heap heap(pages);
        (void)heap.Alloc(64);
      },
      "heap destroyed with 1 live objects of 64 bytes");
}

}  // namespace
}  // namespace lichen::mm
