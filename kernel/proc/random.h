// The kernel's random numbers: getrandom(2) and AT_RANDOM.
//
// A ChaCha20 generator (RFC 8439's block function, used as a stream cipher keyed by the
// pool), keyed at first use from the platform's counter and its jitter: many readings of
// platform::Now() around short spins, whose low bits vary with cache, interrupt and (under
// QEMU) host scheduling timing, folded into the key with the ChaCha block itself. After each
// request the key is replaced by fresh output (fast key erasure), so earlier outputs cannot
// be recomputed from the state. This is not a hardware entropy source: there is none on the
// QEMU virt machine Lichen runs (no virtio-rng driver, no FEAT_RNG), so the output is as
// unpredictable as that timing is, which is enough for stack canaries and hash seeds, not for
// long-term keys. In the simulator virtual time is deterministic, so it is too (replays stay
// exact).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lichen::proc {

// Fills `len` bytes at `out`. Never fails, never blocks (after the first call's seeding).
void RandomBytes(void* out, size_t len);

// The ChaCha20 block function (RFC 8439 2.3): 64 bytes of keystream for key, counter, nonce.
// Exposed for its test vector.
void ChaCha20Block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                   uint8_t out[64]);

}  // namespace lichen::proc
