// Helpers shared by the memory-allocator tests: host buffers to manage, and fill patterns.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "kernel/mm/page_alloc.h"

namespace lichen::mm_test {

inline constexpr size_t kMiB = size_t{1} << 20;

// The page allocator's free-block counts per order: equal before and after a test that
// returned everything it took, whatever the order of frees.
inline std::vector<size_t> FreeBlocks(const mm::PageAllocator& pages) {
  const mm::PageAllocatorStats stats = pages.Stats();
  return std::vector<size_t>(stats.free_blocks, stats.free_blocks + mm::kOrderCount);
}

// A buffer from the host heap, aligned to `align` (a power of two), to hand to AddRegion.
class HostBuffer {
 public:
  HostBuffer(size_t bytes, size_t align) : bytes_(bytes) {
    // aligned_alloc wants a size that is a multiple of the alignment.
    const size_t rounded = (bytes + align - 1) / align * align;
    memory_ = std::aligned_alloc(align, rounded);
    if (memory_ == nullptr) std::abort();
  }
  ~HostBuffer() { std::free(memory_); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  uintptr_t base() const { return reinterpret_cast<uintptr_t>(memory_); }
  size_t bytes() const { return bytes_; }

 private:
  void* memory_;
  size_t bytes_;
};

// The pattern byte at offset `i` of an allocation identified by `key`.
inline uint8_t PatternByte(uint64_t key, size_t i) {
  const uint64_t x = (key + i) * 0x9e3779b97f4a7c15ull;
  return static_cast<uint8_t>(x >> 56);
}

// Writes the pattern of `key` over [addr, addr + bytes).
inline void FillPattern(uintptr_t addr, size_t bytes, uint64_t key) {
  uint8_t* p = reinterpret_cast<uint8_t*>(addr);
  for (size_t i = 0; i < bytes; ++i)
    p[i] = PatternByte(key, i);
}

// True when [addr, addr + bytes) still holds the pattern of `key`.
inline bool PatternIntact(uintptr_t addr, size_t bytes, uint64_t key) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(addr);
  for (size_t i = 0; i < bytes; ++i) {
    if (p[i] != PatternByte(key, i)) return false;
  }
  return true;
}

// For page blocks, whose full fill would be slow under ASan: the pattern on the first and last
// 64 bytes of every page of the block.
inline void FillPagePattern(uintptr_t addr, size_t bytes, uint64_t key) {
  for (size_t page = 0; page < bytes; page += 4096) {
    FillPattern(addr + page, 64, key + page);
    FillPattern(addr + page + 4096 - 64, 64, ~(key + page));
  }
}

inline bool PagePatternIntact(uintptr_t addr, size_t bytes, uint64_t key) {
  for (size_t page = 0; page < bytes; page += 4096) {
    if (!PatternIntact(addr + page, 64, key + page)) return false;
    if (!PatternIntact(addr + page + 4096 - 64, 64, ~(key + page))) return false;
  }
  return true;
}

// Text that the test binaries' panic handler prints after a panic message, so that a panic
// inside a property test (an allocator assertion, an invariant check) still names the seed
// that replays it. Set for a scope by PanicContext; nullptr prints nothing.
void SetPanicContext(const char* text);

// Names `what` and `seed` in any panic during its lifetime, with the replay variable.
class PanicContext {
 public:
  PanicContext(const char* what, uint64_t seed) {
    std::snprintf(text_, sizeof(text_), "while running %s seed=%llu (replay: LICHEN_SEED=%llu)",
                  what, static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(seed));
    SetPanicContext(text_);
  }
  ~PanicContext() { SetPanicContext(nullptr); }
  PanicContext(const PanicContext&) = delete;
  PanicContext& operator=(const PanicContext&) = delete;

 private:
  char text_[160];
};

// Owns an allocator for a test body, but leaks it when the test has failed: an early ASSERT
// return leaves live blocks behind, and the allocator's destructor checks would then panic
// and hide gtest's report of the real failure.
template <typename T>
class TestOwned {
 public:
  template <typename... Args>
  explicit TestOwned(Args&&... args) : object_(new T(static_cast<Args&&>(args)...)) {}
  ~TestOwned() {
    if (::testing::Test::HasFailure()) (void)object_.release();
  }
  TestOwned(const TestOwned&) = delete;
  TestOwned& operator=(const TestOwned&) = delete;

  T& operator*() const { return *object_; }
  T* operator->() const { return object_.get(); }

 private:
  std::unique_ptr<T> object_;
};

}  // namespace lichen::mm_test
