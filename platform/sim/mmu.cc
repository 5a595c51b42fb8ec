// The simulator's half of kernel/base/platform_mmu.h; see mmu.h.
#include "platform/sim/mmu.h"

#include <map>
#include <mutex>

#include "kernel/base/debug.h"
#include "kernel/base/platform.h"
#include "kernel/base/platform_mmu.h"
#include "kernel/mm/kmem.h"
#include "lib/assert.h"
#include "lib/sim_reset.h"
#include "platform/sim/sim.h"

namespace lichen {

namespace {

// Entry format: bit 0 valid, bit 1 table (levels 0..2), bit 2 page (level 3), bits 3..5
// read/write/exec, bits 12..47 the physical (= host) address. Host addresses of the
// simulator's memory fit in 48 bits on x86-64 and AArch64 Linux.
constexpr uint64_t kValid = 1u << 0;
constexpr uint64_t kTable = 1u << 1;
constexpr uint64_t kPage = 1u << 2;
constexpr uint64_t kRead = 1u << 3;
constexpr uint64_t kWrite = 1u << 4;
constexpr uint64_t kExec = 1u << 5;
constexpr uint64_t kAddressMask = 0x0000'ffff'ffff'f000ull;

uint32_t g_asid_bits = 16;

// Everything below is touched by virtual CPUs, which all run on the simulator's one host
// thread; the mutex only guards against a test reading counters from another host thread.
std::mutex g_mutex;
struct CpuState {
  sim::MmuCounters counters;
  sim::UserTranslation now;
  // ASID -> the root whose entries this CPU's TLB may hold under it (since its last flush).
  std::map<uint32_t, uintptr_t> tlb;
};
std::vector<CpuState> g_cpus;

CpuState& ThisCpuState() {
  // Not platform::ThisCpu(): with IRQs on that is a preemption point, and this runs under
  // g_mutex, so another simulated CPU would block on it on the simulator's one host thread.
  const uint32_t current = sim::Active() ? sim::CurrentVirtualCpu() : 0;
  const uint32_t cpu = current < platform::CpuCount() ? current : 0;
  if (g_cpus.size() <= cpu)
    g_cpus.resize(platform::CpuCount() > cpu ? platform::CpuCount() : cpu + 1);
  return g_cpus[cpu];
}

// An ASID the allocator can give out: 1 .. 2^bits - 1 (a context id passed by mistake, with
// its generation bits, would fail here).
void CheckAsid(const char* who, uint32_t asid) {
  LICHEN_ASSERT(asid != 0 && asid < (uint32_t{1} << g_asid_bits), "{}: ASID {} out of range", who,
                asid);
}

void ResetMmu() {
  std::lock_guard<std::mutex> guard(g_mutex);
  g_cpus.clear();
}
const ResetRegistrar g_reset_mmu("sim.mmu", ResetStage::kAny, &ResetMmu);

}  // namespace

namespace platform {

uintptr_t KernelToPhys(uintptr_t kva) {
  return kva;
}
uintptr_t PhysToKernel(uintptr_t pa) {
  return pa;
}

uint64_t EncodeTableEntry(uintptr_t next_table_pa) {
  LICHEN_ASSERT((next_table_pa & ~kAddressMask) == 0, "table address {:#x} unaligned or too high",
                next_table_pa);
  return next_table_pa | kValid | kTable;
}

uint64_t EncodeUserPage(uintptr_t page_pa, PageProt prot) {
  LICHEN_ASSERT((page_pa & ~kAddressMask) == 0, "page address {:#x} unaligned or too high",
                page_pa);
  // As arm64 under Linux 6.1: no write-only and no execute-only pages, any permission reads.
  const bool read = prot.read || prot.write || prot.exec;
  return page_pa | kValid | kPage | (read ? kRead : 0) | (prot.write ? kWrite : 0) |
         (prot.exec ? kExec : 0);
}

bool EntryValid(uint64_t e) {
  return (e & kValid) != 0;
}

bool EntryIsTable(uint64_t e, int level) {
  LICHEN_DEBUG_ASSERT(level >= 0 && level <= 3, "level {}", level);
  return level < 3 && (e & (kValid | kTable)) == (kValid | kTable);
}

uintptr_t EntryAddress(uint64_t e) {
  return e & kAddressMask;
}

PageProt EntryProt(uint64_t e) {
  return PageProt{(e & kRead) != 0, (e & kWrite) != 0, (e & kExec) != 0};
}

uint32_t AsidBits() {
  return g_asid_bits;
}

void TlbFlushPage(uint32_t asid, uintptr_t va) {
  CheckAsid("TlbFlushPage", asid);
  LICHEN_ASSERT((va & 0xfff) == 0 && va < kUserVaTop, "TlbFlushPage({}, {:#x})", asid, va);
  std::lock_guard<std::mutex> guard(g_mutex);
  ++ThisCpuState().counters.page_flushes;
  // The model tracks whole ASIDs, not pages: a page flush leaves the ASID's owner as it was.
}

void TlbFlushAsid(uint32_t asid) {
  CheckAsid("TlbFlushAsid", asid);
  std::lock_guard<std::mutex> guard(g_mutex);
  ++ThisCpuState().counters.asid_flushes;
  for (CpuState& cpu : g_cpus)
    cpu.tlb.erase(asid);
}

void TlbFlushAllLocal() {
  std::lock_guard<std::mutex> guard(g_mutex);
  CpuState& cpu = ThisCpuState();
  ++cpu.counters.local_flushes;
  cpu.tlb.clear();
}

void SetUserTranslation(uintptr_t root_pa, uint32_t asid) {
  LICHEN_ASSERT(IrqsMasked(), "SetUserTranslation with IRQs enabled");
  if (kDebugChecks && root_pa != 0) {
    // A live root: a page-table page the page allocator has handed out and not taken back.
    const uintptr_t kva = PhysToKernel(root_pa);
    LICHEN_ASSERT(mm::Pages().Contains(kva), "SetUserTranslation: root {:#x} is not RAM", root_pa);
    const mm::PageBlock block = mm::Pages().BlockContaining(kva);
    LICHEN_ASSERT(block.base == kva && block.order == 0 && block.tag == kPageTableTag,
                  "SetUserTranslation: root {:#x} is not a live page table", root_pa);
  }
  if (root_pa != 0) CheckAsid("SetUserTranslation", asid);
  std::lock_guard<std::mutex> guard(g_mutex);
  CpuState& cpu = ThisCpuState();
  ++cpu.counters.translations_set;
  cpu.now = sim::UserTranslation{root_pa, root_pa != 0 ? asid : 0};
  if (root_pa == 0) return;
  auto [it, inserted] = cpu.tlb.try_emplace(asid, root_pa);
  if (!inserted && it->second != root_pa) {
    ++cpu.counters.stale_asid_uses;
    it->second = root_pa;
  }
}

}  // namespace platform

namespace sim {

std::vector<MmuCounters> MmuCountersByCpu() {
  std::lock_guard<std::mutex> guard(g_mutex);
  std::vector<MmuCounters> out;
  for (const CpuState& cpu : g_cpus)
    out.push_back(cpu.counters);
  return out;
}

MmuCounters MmuTotals() {
  MmuCounters total;
  for (const MmuCounters& c : MmuCountersByCpu()) {
    total.page_flushes += c.page_flushes;
    total.asid_flushes += c.asid_flushes;
    total.local_flushes += c.local_flushes;
    total.translations_set += c.translations_set;
    total.stale_asid_uses += c.stale_asid_uses;
  }
  return total;
}

UserTranslation CurrentTranslation(uint32_t cpu) {
  std::lock_guard<std::mutex> guard(g_mutex);
  return cpu < g_cpus.size() ? g_cpus[cpu].now : UserTranslation{};
}

void SetAsidBits(uint32_t bits) {
  g_asid_bits = bits;
}

}  // namespace sim

}  // namespace lichen
