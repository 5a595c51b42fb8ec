// The little runtime a freestanding C++ kernel needs: the memory functions the compiler emits
// calls to, and the C++ ABI hooks for pure virtuals, static destructors and sized delete.
//
// The memory functions run before the MMU is on too (when unaligned accesses fault), so they
// only use word accesses when both pointers are 8-byte aligned. This file is compiled with
// -fno-builtin so the loops are not turned back into calls to themselves.
#include <bits/functexcept.h>  // libstdc++'s declarations of the std::__throw_* hooks

#include <cstddef>
#include <cstdint>

#include "lib/assert.h"

extern "C" {

void* memcpy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  if (((reinterpret_cast<uintptr_t>(d) | reinterpret_cast<uintptr_t>(s)) & 7) == 0) {
    for (; n >= 8; n -= 8, d += 8, s += 8) {
      *reinterpret_cast<uint64_t*>(d) = *reinterpret_cast<const uint64_t*>(s);
    }
  }
  for (; n > 0; --n)
    *d++ = *s++;
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  if (d == s || n == 0) return dst;
  if (d < s || d >= s + n) return memcpy(dst, src, n);  // no harmful overlap going forward
  // Overlap with dst above src: copy backwards.
  d += n;
  s += n;
  if (((reinterpret_cast<uintptr_t>(d) | reinterpret_cast<uintptr_t>(s)) & 7) == 0) {
    for (; n >= 8; n -= 8) {
      d -= 8;
      s -= 8;
      *reinterpret_cast<uint64_t*>(d) = *reinterpret_cast<const uint64_t*>(s);
    }
  }
  while (n-- > 0)
    *--d = *--s;
  return dst;
}

namespace {

// The bytes one DC ZVA zeroes (DCZID_EL0.BS: log2 of 4-byte words; 64 on a Cortex-A72), or 0
// when it may not be used: DCZID_EL0.DZP set, or the MMU or the data cache off (DC ZVA on
// Device memory, which all memory is before the MMU is on, is an alignment fault).
size_t ZvaBlockBytes() {
  uint64_t dczid;
  uint64_t sctlr;
  asm volatile("mrs %0, dczid_el0" : "=r"(dczid));
  asm volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
  constexpr uint64_t kMmuOn = uint64_t{1} << 0;
  constexpr uint64_t kCacheOn = uint64_t{1} << 2;
  if ((dczid & 0x10) != 0 || (sctlr & (kMmuOn | kCacheOn)) != (kMmuOn | kCacheOn)) return 0;
  return size_t{4} << (dczid & 0xf);
}

}  // namespace

void* memset(void* dst, int value, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const uint8_t byte = static_cast<uint8_t>(value);
  for (; n > 0 && (reinterpret_cast<uintptr_t>(d) & 7) != 0; --n)
    *d++ = byte;
  const uint64_t word = byte * 0x0101010101010101ULL;
  // Zeroing a page (every first touch of user memory, every page table) a block per
  // instruction instead of 8 bytes per store: the page fault cost 2 100 guest instructions
  // against Linux's 1 230 (docs/perf.md), most of them this loop.
  if (byte == 0 && n >= 256) {
    if (const size_t block = ZvaBlockBytes(); block != 0) {
      for (; n >= 8 && (reinterpret_cast<uintptr_t>(d) & (block - 1)) != 0; n -= 8, d += 8)
        *reinterpret_cast<uint64_t*>(d) = 0;
      for (; n >= block; n -= block, d += block)
        asm volatile("dc zva, %0" : : "r"(d) : "memory");
    }
  }
  for (; n >= 8; n -= 8, d += 8)
    *reinterpret_cast<uint64_t*>(d) = word;
  for (; n > 0; --n)
    *d++ = byte;
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* p = static_cast<const uint8_t*>(a);
  const auto* q = static_cast<const uint8_t*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
  }
  return 0;
}

void* memchr(const void* p, int c, size_t n) {
  const auto* q = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (q[i] == static_cast<uint8_t>(c)) return const_cast<uint8_t*>(q + i);
  }
  return nullptr;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n] != '\0')
    ++n;
  return n;
}

// A pure virtual function was called (an object used during its construction/destruction).
[[noreturn]] void __cxa_pure_virtual() {
  LICHEN_PANIC("pure virtual function called");
}

// Static destructors are registered here and never run: the kernel never "exits" in the C++
// sense, it powers off.
int __cxa_atexit(void (*)(void*), void*, void*) {
  return 0;
}
void* __dso_handle = nullptr;

}  // extern "C"

// With -fno-exceptions, libstdc++'s headers call these where the standard says "throws" (for
// example std::string_view::substr past the end). In the kernel that is a bug: panic.
namespace std {
void __throw_out_of_range_fmt(const char* fmt, ...) {
  LICHEN_PANIC("libstdc++: {}", fmt);
}
void __throw_out_of_range(const char* what) {
  LICHEN_PANIC("libstdc++: {}", what);
}
void __throw_length_error(const char* what) {
  LICHEN_PANIC("libstdc++: {}", what);
}
void __throw_logic_error(const char* what) {
  LICHEN_PANIC("libstdc++: {}", what);
}
void __throw_invalid_argument(const char* what) {
  LICHEN_PANIC("libstdc++: {}", what);
}
}  // namespace std

// The kernel never allocates through operator new; these exist only because virtual
// destructors reference the sized/unsized deletes. Calling one is a bug.
void operator delete(void*) noexcept {
  LICHEN_PANIC("operator delete called");
}
void operator delete(void*, size_t) noexcept {
  LICHEN_PANIC("operator delete called");
}
