// getrandom's generator: the ChaCha20 block function against RFC 8439's test vector, and the
// generator's output never repeating within a run.
#include <gtest/gtest.h>

#include <cstring>

#include "kernel/proc/random.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

// RFC 8439, 2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1.
TEST(Random, ChaCha20BlockMatchesRfc8439) {
  uint32_t key[8];
  for (uint32_t i = 0; i < 8; ++i) {
    key[i] = (4 * i) | (4 * i + 1) << 8 | (4 * i + 2) << 16 | (4 * i + 3) << 24;
  }
  const uint32_t nonce[3] = {0x09000000, 0x4a000000, 0x00000000};
  uint8_t out[64];
  proc::ChaCha20Block(key, 1, nonce, out);
  const uint8_t expected[64] = {0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd,
                                0x1f, 0xa3, 0x20, 0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0,
                                0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e, 0xd2,
                                0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05,
                                0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e,
                                0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
  EXPECT_EQ(std::memcmp(out, expected, sizeof(out)), 0);
}

TEST(Random, RequestsNeverRepeatAndBlocksDiffer) {
  const sim::Outcome result = RunProc(2, 1, [] {
    uint8_t a[100];
    uint8_t b[100];
    proc::RandomBytes(a, sizeof(a));
    proc::RandomBytes(b, sizeof(b));
    LICHEN_ASSERT(std::memcmp(a, b, sizeof(a)) != 0, "two requests gave the same bytes");
    LICHEN_ASSERT(std::memcmp(a, a + 64, 36) != 0, "two blocks of one request repeat");
    int zeros = 0;
    for (uint8_t byte : a)
      zeros += byte == 0;
    LICHEN_ASSERT(zeros < 10, "{} zero bytes of 100", zeros);
  });
  ASSERT_TRUE(result.ok) << Explain(result);
}

}  // namespace
}  // namespace lichen::test
