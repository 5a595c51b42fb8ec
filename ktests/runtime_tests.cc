// The freestanding runtime's memory functions (platform/aarch64/runtime.cc), on the real MMU:
// memset's DC ZVA path zeroes whole blocks only when the MMU and caches are on, and must give
// the same bytes as the plain loop for every alignment and length, touching nothing outside.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ktests/ktest.h"

namespace lichen {
namespace {

// 3 pages, 4 KiB aligned: room for every misalignment of a page-sized fill and guard bytes.
alignas(4096) uint8_t g_area[3 * 4096];

KTEST(memset_zero_blocks_match_the_byte_loop) {
  const size_t lengths[] = {0, 1, 7, 8, 63, 64, 65, 255, 256, 257, 4095, 4096, 4097, 8192};
  const size_t offsets[] = {0, 1, 8, 63, 64, 100, 4096 - 8};
  for (size_t len : lengths) {
    for (size_t off : offsets) {
      for (uint8_t value : {uint8_t{0}, uint8_t{0xa5}}) {
        for (size_t i = 0; i < sizeof(g_area); ++i)
          g_area[i] = static_cast<uint8_t>(i * 7 + 1);  // a pattern to leave alone outside
        // Through a volatile pointer, so the compiler calls memset rather than inlining it.
        void* (*volatile fill)(void*, int, size_t) = &memset;
        fill(g_area + off, value, len);
        for (size_t i = 0; i < sizeof(g_area); ++i) {
          const bool inside = i >= off && i < off + len;
          const uint8_t want = inside ? value : static_cast<uint8_t>(i * 7 + 1);
          KTEST_CHECK(g_area[i] == want, "memset(+{}, {:#x}, {}): byte {} is {:#x}, want {:#x}",
                      off, value, len, i, g_area[i], want);
        }
      }
    }
  }
}

}  // namespace
}  // namespace lichen
