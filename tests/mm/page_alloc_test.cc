// Unit tests of the buddy page allocator (kernel/mm/page_alloc.h).
#include "kernel/mm/page_alloc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "tests/mm/mm_test_util.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;

using mm_test::kMiB;

// The free-block count of every order, for comparing allocator states.
using mm_test::FreeBlocks;

TEST(PageAllocator, OrderHelpers) {
  EXPECT_EQ(OrderBytes(0), 4096u);
  EXPECT_EQ(OrderBytes(kMaxOrder), 4 * kMiB);
  EXPECT_EQ(OrderForBytes(0), 0u);
  EXPECT_EQ(OrderForBytes(4096), 0u);
  EXPECT_EQ(OrderForBytes(4097), 1u);
  EXPECT_EQ(OrderForBytes(4 * kMiB), kMaxOrder);
  EXPECT_EQ(OrderForBytes(4 * kMiB + 1), kOrderCount);
  EXPECT_EQ(OrderForBytes(SIZE_MAX), kOrderCount);
}

TEST(PageAllocator, AddRegionLaysOutMaximalAlignedBlocks) {
  HostBuffer buffer(4 * kMiB, 4 * kMiB);
  PageAllocator pages;
  const Result<size_t> added = pages.AddRegion(buffer.base(), buffer.bytes());
  ASSERT_TRUE(added.ok());
  // 1024 pages need a 1024-byte state array: one page. The other 1023 pages form one block of
  // each order 0..9 (4 KiB + 8 KiB + ... + 2 MiB), each aligned to its size.
  EXPECT_EQ(added.value(), 4 * kMiB - 4096);
  EXPECT_EQ(pages.TotalBytes(), 4 * kMiB - 4096);
  EXPECT_EQ(pages.FreeBytes(), 4 * kMiB - 4096);
  const PageAllocatorStats stats = pages.Stats();
  EXPECT_EQ(stats.metadata_bytes, 4096u);
  EXPECT_EQ(stats.regions, 1u);
  for (uint32_t order = 0; order < kMaxOrder; ++order)
    EXPECT_EQ(stats.free_blocks[order], 1u);
  EXPECT_EQ(stats.free_blocks[kMaxOrder], 0u);
  pages.CheckInvariants();
}

TEST(PageAllocator, LargeRegionIsMostlyMaxOrderBlocks) {
  HostBuffer buffer(16 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  // 4096 pages: still a one-page state array, then one block of each order 0..9 in the first
  // 4 MiB and three 4 MiB blocks.
  const PageAllocatorStats stats = pages.Stats();
  EXPECT_EQ(stats.free_blocks[kMaxOrder], 3u);
  for (uint32_t order = 0; order < kMaxOrder; ++order)
    EXPECT_EQ(stats.free_blocks[order], 1u);
  EXPECT_EQ(pages.TotalBytes(), 16 * kMiB - 4096);
  pages.CheckInvariants();
}

TEST(PageAllocator, UnalignedRegionIsTrimmedToWholePages) {
  HostBuffer buffer(2 * kMiB, 4096);
  PageAllocator pages;
  // [base + 100, base + 1 MiB + 100) holds the whole pages [base + 4 KiB, base + 1 MiB): 255
  // pages, one of which becomes the state array.
  const Result<size_t> added = pages.AddRegion(buffer.base() + 100, kMiB);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added.value(), 254 * 4096u);
  EXPECT_FALSE(pages.Contains(buffer.base()));
  EXPECT_TRUE(pages.Contains(buffer.base() + 4096));
  EXPECT_FALSE(pages.Contains(buffer.base() + kMiB));
  pages.CheckInvariants();
  // Every page handed out lies inside the trimmed range and after the state page.
  std::vector<uintptr_t> taken;
  for (Result<uintptr_t> page = pages.AllocPages(0); page.ok(); page = pages.AllocPages(0)) {
    EXPECT_GE(page.value(), buffer.base() + 2 * 4096);
    EXPECT_LT(page.value(), buffer.base() + kMiB);
    taken.push_back(page.value());
  }
  EXPECT_EQ(taken.size(), 254u);
  for (uintptr_t page : taken)
    pages.FreePages(page, 0);
  pages.CheckInvariants();
}

TEST(PageAllocator, AddRegionRejectsUnusableRegions) {
  HostBuffer buffer(4 * kMiB, 4 * kMiB);
  PageAllocator pages;
  EXPECT_EQ(pages.AddRegion(buffer.base(), 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pages.AddRegion(buffer.base() + 1, 4094).error(), Error::kInvalidArgument);
  // One page would be all bookkeeping.
  EXPECT_EQ(pages.AddRegion(buffer.base(), 4096).error(), Error::kInvalidArgument);
  EXPECT_EQ(pages.AddRegion(UINTPTR_MAX - 4095, 8192).error(), Error::kInvalidArgument);
  EXPECT_EQ(pages.AddRegion(UINTPTR_MAX - 100, 50).error(), Error::kInvalidArgument);
  // Two pages: one of state, one to hand out.
  const Result<size_t> tiny = pages.AddRegion(buffer.base(), 8192);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny.value(), 4096u);
  // Overlaps, exact and partial, are refused.
  EXPECT_EQ(pages.AddRegion(buffer.base(), 8192).error(), Error::kInvalidArgument);
  EXPECT_EQ(pages.AddRegion(buffer.base() + 4096, 8192).error(), Error::kInvalidArgument);
  EXPECT_EQ(pages.Stats().regions, 1u);
  // Up to kMaxRegions regions; then kNoMemory.
  for (uint32_t i = 1; i < kMaxRegions; ++i) {
    EXPECT_TRUE(pages.AddRegion(buffer.base() + i * 8192, 8192).ok()) << i;
  }
  EXPECT_EQ(pages.AddRegion(buffer.base() + kMaxRegions * 8192, 8192).error(), Error::kNoMemory);
  EXPECT_EQ(pages.TotalBytes(), kMaxRegions * 4096u);
  pages.CheckInvariants();
}

TEST(PageAllocator, BlocksAreAlignedToTheirSizeAndInsideTheRegion) {
  HostBuffer buffer(16 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    const Result<uintptr_t> block = pages.AllocPages(order);
    ASSERT_TRUE(block.ok()) << order;
    const uintptr_t base = block.value();
    EXPECT_EQ(base % OrderBytes(order), 0u) << order;
    EXPECT_GE(base, buffer.base() + 4096);
    EXPECT_LE(base + OrderBytes(order), buffer.base() + buffer.bytes());
    mm_test::FillPagePattern(base, OrderBytes(order), order);
    EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes() - OrderBytes(order));
    EXPECT_TRUE(mm_test::PagePatternIntact(base, OrderBytes(order), order));
    pages.FreePages(base, order);
    EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
  }
  pages.CheckInvariants();
}

TEST(PageAllocator, RejectsBadOrderAndTag) {
  HostBuffer buffer(4 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  EXPECT_EQ(pages.AllocPages(kMaxOrder + 1).error(), Error::kInvalidArgument);
  EXPECT_EQ(pages.AllocPages(0, kMaxPageTag + 1).error(), Error::kInvalidArgument);
  // No order-10 block in a 4 MiB region whose first page is bookkeeping.
  EXPECT_EQ(pages.AllocPages(kMaxOrder).error(), Error::kNoMemory);
  EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
}

TEST(PageAllocator, ExhaustionReturnsNoMemoryAndRecovers) {
  HostBuffer buffer(4 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  const std::vector<size_t> initial = FreeBlocks(pages);

  std::vector<uintptr_t> taken;
  for (Result<uintptr_t> page = pages.AllocPages(0); page.ok(); page = pages.AllocPages(0)) {
    taken.push_back(page.value());
  }
  EXPECT_EQ(taken.size(), 1023u);
  EXPECT_EQ(pages.FreeBytes(), 0u);
  EXPECT_EQ(pages.AllocPages(0).error(), Error::kNoMemory);
  EXPECT_EQ(pages.Stats().failed_allocations, 2u);  // the loop's last call and this one

  // One page back: exactly one order-0 allocation succeeds, nothing larger.
  pages.FreePages(taken.back(), 0);
  EXPECT_EQ(pages.AllocPages(1).error(), Error::kNoMemory);
  const Result<uintptr_t> again = pages.AllocPages(0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), taken.back());
  EXPECT_EQ(pages.AllocPages(0).error(), Error::kNoMemory);

  // Everything back, in a scrambled order: the maximal blocks are restored.
  std::mt19937_64 rng(42);
  std::shuffle(taken.begin(), taken.end(), rng);
  for (uintptr_t page : taken)
    pages.FreePages(page, 0);
  EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
  EXPECT_EQ(FreeBlocks(pages), initial);
  pages.CheckInvariants();
}

TEST(PageAllocator, BuddiesCoalesceIntoTheMaximalBlock) {
  HostBuffer buffer(16 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  const std::vector<size_t> initial = FreeBlocks(pages);

  std::vector<uintptr_t> taken;
  for (Result<uintptr_t> page = pages.AllocPages(0); page.ok(); page = pages.AllocPages(0)) {
    taken.push_back(page.value());
  }
  // Give back the 1024 pages of the 4 MiB block at base + 8 MiB, all but one: no order-10
  // block may form, and the rest of that range must be a chain of one block per order 0..9.
  const uintptr_t big = buffer.base() + 8 * kMiB;
  std::vector<uintptr_t> in_big;
  for (uintptr_t page : taken) {
    if (page >= big && page < big + 4 * kMiB) in_big.push_back(page);
  }
  ASSERT_EQ(in_big.size(), 1024u);
  std::mt19937_64 rng(7);
  std::shuffle(in_big.begin(), in_big.end(), rng);
  for (size_t i = 1; i < in_big.size(); ++i)
    pages.FreePages(in_big[i], 0);
  EXPECT_EQ(pages.AllocPages(kMaxOrder).error(), Error::kNoMemory);
  const PageAllocatorStats partial = pages.Stats();
  for (uint32_t order = 0; order < kMaxOrder; ++order)
    EXPECT_EQ(partial.free_blocks[order], 1u);
  pages.CheckInvariants();

  // The last page closes the block: one 4 MiB allocation now succeeds, at exactly that range.
  pages.FreePages(in_big[0], 0);
  const Result<uintptr_t> whole = pages.AllocPages(kMaxOrder);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole.value(), big);
  pages.FreePages(big, kMaxOrder);

  for (uintptr_t page : taken) {
    if (page < big || page >= big + 4 * kMiB) pages.FreePages(page, 0);
  }
  EXPECT_EQ(FreeBlocks(pages), initial);
  pages.CheckInvariants();
}

TEST(PageAllocator, BlockContainingFindsTheBlockFromAnyByte) {
  HostBuffer buffer(16 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  std::vector<PageBlock> blocks;
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    const uint8_t tag = static_cast<uint8_t>(order % (kMaxPageTag + 1));
    const Result<uintptr_t> block = pages.AllocPages(order, tag);
    ASSERT_TRUE(block.ok());
    blocks.push_back(PageBlock{block.value(), order, tag});
  }
  for (const PageBlock& block : blocks) {
    const size_t bytes = OrderBytes(block.order);
    for (uintptr_t offset : {size_t{0}, size_t{1}, size_t{4095}, bytes / 2 + 123, bytes - 1}) {
      const PageBlock found = pages.BlockContaining(block.base + offset);
      EXPECT_EQ(found.base, block.base) << block.order << " +" << offset;
      EXPECT_EQ(found.order, block.order);
      EXPECT_EQ(found.tag, block.tag);
    }
  }
  for (const PageBlock& block : blocks)
    pages.FreePages(block.base, block.order, block.tag);
  pages.CheckInvariants();
}

TEST(PageAllocator, AdjacentRegionsNeverMergeAcrossTheirBoundary) {
  // One 8 MiB buffer as two adjacent regions split at an odd page boundary: a buddy across
  // the boundary exists in the address space but belongs to the other region.
  HostBuffer buffer(8 * kMiB, 4 * kMiB);
  const uintptr_t split = buffer.base() + 2 * kMiB + 3 * 4096;
  const uintptr_t end = buffer.base() + buffer.bytes();
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), split - buffer.base()).ok());
  ASSERT_TRUE(pages.AddRegion(split, end - split).ok());
  const std::vector<size_t> initial = FreeBlocks(pages);
  pages.CheckInvariants();

  std::mt19937_64 rng(3);
  std::vector<PageBlock> taken;
  for (int attempts = 0; attempts < 4000; ++attempts) {
    const uint32_t order = static_cast<uint32_t>(rng() % 6);
    const Result<uintptr_t> block = pages.AllocPages(order);
    if (!block.ok()) continue;
    const uintptr_t lo = block.value();
    const uintptr_t hi = lo + OrderBytes(order);
    EXPECT_TRUE((lo >= buffer.base() && hi <= split) || (lo >= split && hi <= end))
        << "block " << lo << " order " << order << " straddles the regions";
    taken.push_back(PageBlock{lo, order, 0});
  }
  EXPECT_EQ(
      pages.FreeBytes() +
          [&] {
            size_t used = 0;
            for (const PageBlock& b : taken)
              used += OrderBytes(b.order);
            return used;
          }(),
      pages.TotalBytes());
  std::shuffle(taken.begin(), taken.end(), rng);
  for (const PageBlock& block : taken)
    pages.FreePages(block.base, block.order);
  EXPECT_EQ(FreeBlocks(pages), initial);
  pages.CheckInvariants();
}

TEST(PageAllocator, StatsCountCalls) {
  HostBuffer buffer(4 * kMiB, 4 * kMiB);
  PageAllocator pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  const uintptr_t a = pages.AllocPages(3).value();
  const uintptr_t b = pages.AllocPages(0).value();
  EXPECT_EQ(pages.AllocPages(kMaxOrder).error(), Error::kNoMemory);
  pages.FreePages(a, 3);
  const PageAllocatorStats stats = pages.Stats();
  EXPECT_EQ(stats.allocations, 2u);
  EXPECT_EQ(stats.frees, 1u);
  EXPECT_EQ(stats.failed_allocations, 1u);
  EXPECT_EQ(stats.free_bytes, stats.total_bytes - 4096);
  pages.FreePages(b, 0);
}

// Misuse is a panic with a message that names the mistake.
class PageAllocatorDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pages_.AddRegion(buffer_.base(), buffer_.bytes()).ok()); }

  HostBuffer buffer_{4 * kMiB, 4 * kMiB};
  PageAllocator pages_;
};

TEST_F(PageAllocatorDeathTest, DoubleFree) {
  const uintptr_t page = pages_.AllocPages(0).value();
  pages_.FreePages(page, 0);
  EXPECT_DEATH(pages_.FreePages(page, 0), "double free");
}

TEST_F(PageAllocatorDeathTest, DoubleFreeAfterCoalescing) {
  // The freed block merged with its buddy: its first page is now interior or a larger head.
  const uintptr_t a = pages_.AllocPages(2).value();
  pages_.FreePages(a, 2);
  EXPECT_DEATH(pages_.FreePages(a, 2), "double free|not the start of an allocated block");
}

TEST_F(PageAllocatorDeathTest, ForeignAddress) {
  HostBuffer other(kMiB, 4096);
  EXPECT_DEATH(pages_.FreePages(other.base(), 0), "foreign address");
}

TEST_F(PageAllocatorDeathTest, WrongOrder) {
  const uintptr_t block = pages_.AllocPages(2).value();
  EXPECT_DEATH(pages_.FreePages(block, 1), "allocated with order 2");
  EXPECT_DEATH(pages_.FreePages(block, 3), "not aligned|allocated with order 2");
}

TEST_F(PageAllocatorDeathTest, InteriorAddress) {
  const uintptr_t block = pages_.AllocPages(2).value();
  EXPECT_DEATH(pages_.FreePages(block + 4096, 0), "not the start of an allocated block");
  EXPECT_DEATH(pages_.FreePages(block + 8, 0), "not aligned");
}

TEST_F(PageAllocatorDeathTest, WrongTag) {
  const uintptr_t tagged = pages_.AllocPages(1, 2).value();
  EXPECT_DEATH(pages_.FreePages(tagged, 1),
               "block has tag 2, freed with tag 0 \\(not its owner\\)");
  pages_.FreePages(tagged, 1, 2);
  const uintptr_t untagged = pages_.AllocPages(0).value();
  EXPECT_DEATH(pages_.FreePages(untagged, 0, 1), "block has tag 0, freed with tag 1");
}

TEST_F(PageAllocatorDeathTest, BookkeepingPage) {
  EXPECT_DEATH(pages_.FreePages(buffer_.base(), 0), "bookkeeping");
}

TEST_F(PageAllocatorDeathTest, BlockContainingFreeMemory) {
  EXPECT_DEATH(pages_.BlockContaining(buffer_.base() + 2 * kMiB + 5), "lies in a free block");
  HostBuffer other(kMiB, 4096);
  EXPECT_DEATH(pages_.BlockContaining(other.base()), "outside every memory region");
}

}  // namespace
}  // namespace lichen::mm
