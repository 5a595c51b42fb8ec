#include "kernel/proc/random.h"

#include "kernel/base/platform.h"
#include "kernel/lock/rank.h"
#include "kernel/lock/spinlock.h"
#include "lib/no_destroy.h"
#include "lib/sim_reset.h"

namespace lichen::proc {

namespace {

uint32_t Rotl(uint32_t v, int n) {
  return (v << n) | (v >> (32 - n));
}

void QuarterRound(uint32_t* s, int a, int b, int c, int d) {
  s[a] += s[b];
  s[d] = Rotl(s[d] ^ s[a], 16);
  s[c] += s[d];
  s[b] = Rotl(s[b] ^ s[c], 12);
  s[a] += s[b];
  s[d] = Rotl(s[d] ^ s[a], 8);
  s[c] += s[d];
  s[b] = Rotl(s[b] ^ s[c], 7);
}

LockClass g_random_class("proc.random", LockRank::kRandom);

struct Generator {
  SpinLock lock{g_random_class};
  bool seeded TA_GUARDED(lock) = false;
  uint32_t key[8] TA_GUARDED(lock) = {};
  uint64_t requests TA_GUARDED(lock) = 0;
};
NoDestroy<Generator> g_generator;

// Folds 32 words of timing into the key: each word is the counter's reading after a spin
// whose length depends on the previous readings, so that the jitter of one reading moves the
// next ones too.
void Seed(Generator& g) TA_REQ(g.lock) {
  uint32_t samples[16];
  uint64_t prev = platform::Now();
  for (int round = 0; round < 4; ++round) {
    for (uint32_t& sample : samples) {
      const uint32_t spins = 16 + static_cast<uint32_t>(prev & 63);
      // A busy loop, not CpuRelax: this is timing to measure, not a wait for another CPU
      // (and the simulator counts CpuRelax under a lock as a spin on that lock).
      for (uint32_t i = 0; i < spins; ++i)
        __asm__ volatile("" ::: "memory");
      const uint64_t now = platform::Now();
      sample ^= static_cast<uint32_t>(now - prev) * 0x9e3779b9u ^ static_cast<uint32_t>(now);
      prev = now;
    }
    // Mix: the key becomes ChaCha20(key, counter = round, nonce = samples).
    uint8_t block[64];
    uint32_t nonce[3] = {samples[0] ^ samples[3] ^ samples[6] ^ samples[9] ^ samples[12],
                         samples[1] ^ samples[4] ^ samples[7] ^ samples[10] ^ samples[13],
                         samples[2] ^ samples[5] ^ samples[8] ^ samples[11] ^ samples[14]};
    for (int i = 0; i < 8; ++i)
      g.key[i] ^= samples[i] ^ Rotl(samples[i + 8], 13);
    g.key[0] ^= samples[15] ^ platform::ThisCpu();
    ChaCha20Block(g.key, static_cast<uint32_t>(round), nonce, block);
    for (int i = 0; i < 8; ++i) {
      g.key[i] = static_cast<uint32_t>(block[4 * i]) |
                 static_cast<uint32_t>(block[4 * i + 1]) << 8 |
                 static_cast<uint32_t>(block[4 * i + 2]) << 16 |
                 static_cast<uint32_t>(block[4 * i + 3]) << 24;
    }
  }
  g.seeded = true;
}

#if defined(LICHEN_HOST)
void ResetRandomForSimulation() {
  Generator& g = *g_generator;
  LockGuard<SpinLock> guard(g.lock);
  g.seeded = false;
  for (uint32_t& k : g.key)
    k = 0;
  g.requests = 0;
}
const ResetRegistrar g_reset_random("proc.random", ResetStage::kAny, &ResetRandomForSimulation);
#endif

}  // namespace

void ChaCha20Block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                   uint8_t out[64]) {
  uint32_t init[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
  for (int i = 0; i < 8; ++i)
    init[4 + i] = key[i];
  init[12] = counter;
  init[13] = nonce[0];
  init[14] = nonce[1];
  init[15] = nonce[2];
  uint32_t s[16];
  for (int i = 0; i < 16; ++i)
    s[i] = init[i];
  for (int i = 0; i < 10; ++i) {
    QuarterRound(s, 0, 4, 8, 12);
    QuarterRound(s, 1, 5, 9, 13);
    QuarterRound(s, 2, 6, 10, 14);
    QuarterRound(s, 3, 7, 11, 15);
    QuarterRound(s, 0, 5, 10, 15);
    QuarterRound(s, 1, 6, 11, 12);
    QuarterRound(s, 2, 7, 8, 13);
    QuarterRound(s, 3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) {
    const uint32_t v = s[i] + init[i];
    out[4 * i] = static_cast<uint8_t>(v);
    out[4 * i + 1] = static_cast<uint8_t>(v >> 8);
    out[4 * i + 2] = static_cast<uint8_t>(v >> 16);
    out[4 * i + 3] = static_cast<uint8_t>(v >> 24);
  }
}

void RandomBytes(void* out, size_t len) {
  Generator& g = *g_generator;
  uint32_t key[8];
  uint32_t nonce[3] = {0, 0, 0};
  {
    LockGuard<SpinLock> guard(g.lock);
    if (!g.seeded) Seed(g);
    // This request's key is the state's; the state's next key is the first block of it
    // (fast key erasure), taken before anything is handed out.
    for (int i = 0; i < 8; ++i)
      key[i] = g.key[i];
    const uint64_t n = ++g.requests;
    nonce[0] = static_cast<uint32_t>(n);
    nonce[1] = static_cast<uint32_t>(n >> 32);
    uint8_t block[64];
    ChaCha20Block(key, 0, nonce, block);
    for (int i = 0; i < 8; ++i) {
      g.key[i] = static_cast<uint32_t>(block[4 * i]) |
                 static_cast<uint32_t>(block[4 * i + 1]) << 8 |
                 static_cast<uint32_t>(block[4 * i + 2]) << 16 |
                 static_cast<uint32_t>(block[4 * i + 3]) << 24;
    }
  }
  uint8_t* dst = static_cast<uint8_t*>(out);
  uint32_t counter = 1;  // block 0 became the next key
  while (len > 0) {
    uint8_t block[64];
    ChaCha20Block(key, counter++, nonce, block);
    const size_t n = len < 64 ? len : 64;
    for (size_t i = 0; i < n; ++i)
      dst[i] = block[i];
    dst += n;
    len -= n;
  }
}

}  // namespace lichen::proc
