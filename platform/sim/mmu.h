// The simulator's MMU (platform/sim/mmu.cc): kernel/base/platform_mmu.h for virtual CPUs that
// have no TLB. It encodes entries in its own simple format, counts each CPU's TLB flushes,
// and checks what a real TLB would punish: in debug builds, that every root handed to
// SetUserTranslation is a live page-table page; and always, with a model of which space each
// CPU's TLB may hold entries of under each ASID, that no CPU starts using an ASID whose
// entries, on that CPU, belong to another space and were never flushed (a stale TLB).
#pragma once

#include <cstdint>
#include <vector>

namespace lichen::sim {

struct MmuCounters {
  uint64_t page_flushes = 0;      // TlbFlushPage calls made by this CPU
  uint64_t asid_flushes = 0;      // TlbFlushAsid calls made by this CPU
  uint64_t local_flushes = 0;     // TlbFlushAllLocal calls on this CPU
  uint64_t translations_set = 0;  // SetUserTranslation calls on this CPU
  uint64_t stale_asid_uses = 0;   // switches to an ASID that held another root, unflushed
};

// Per-CPU counters of the current (or last) simulation; reset at each boot.
std::vector<MmuCounters> MmuCountersByCpu();
// The sum over the CPUs.
MmuCounters MmuTotals();

// The root and ASID each CPU runs now (root 0: none).
struct UserTranslation {
  uintptr_t root = 0;
  uint32_t asid = 0;
};
UserTranslation CurrentTranslation(uint32_t cpu);

// ASID width platform::AsidBits() reports, 16 by default. Set before a run (it lasts until
// changed); the kernel's allocator reads it once per boot.
void SetAsidBits(uint32_t bits);

}  // namespace lichen::sim
