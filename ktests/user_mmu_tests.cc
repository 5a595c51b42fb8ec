// The aarch64 side of the portable page tables (kernel/base/platform_mmu.h, user_mmu.cc),
// checked against the MMU itself: entries built with the platform's encoders and installed
// with SetUserTranslation are walked by the hardware (AT S1E0R/S1E0W ask for EL0's view),
// and a remapped page is seen by every CPU once TlbFlushPage/TlbFlushAsid return (reads
// through the TLB: QEMU's AT walks the tables afresh and would not notice a stale entry).
#include "kernel/base/platform.h"
#include "kernel/base/platform_mmu.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/sched.h"
#include "ktests/ktest.h"
#include "lib/atomic.h"
#include "platform/aarch64/sysreg.h"

namespace lichen {
namespace {

constexpr uint64_t kVa = 0x0000'7f12'3456'7000;  // high in the user half: all four levels used
constexpr uint32_t kAsid = 200;                  // no allocator runs during ktests

// EL0's view of `va` through this CPU's TTBR0 (PAR_EL1 after AT S1E0R or S1E0W).
uint64_t El0Translate(uint64_t va, bool write) {
  const platform::IrqState irq = platform::SaveAndMaskIrqs();
  uint64_t par;
  if (write) {
    asm volatile("at s1e0w, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
  } else {
    asm volatile("at s1e0r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
  }
  platform::RestoreIrqs(irq);
  return par;
}

bool El0Can(uint64_t va, bool write) {
  return (El0Translate(va, write) & aarch64::kParFault) == 0;
}

uintptr_t ZeroedPage() {
  const Result<uintptr_t> page = mm::Pages().AllocPages(0);
  KTEST_CHECK(page.ok(), "no page");
  auto* words = reinterpret_cast<uint64_t*>(page.value());
  for (int i = 0; i < 512; ++i)
    words[i] = 0;
  return page.value();
}

void Store(uint64_t* entry, uint64_t value) {
  __atomic_store_n(entry, value, __ATOMIC_RELEASE);  // as the core writes entries
}

struct Tree {
  uintptr_t tables[4];
  uintptr_t page;
  uint64_t* leaf;
};

Tree Build() {
  Tree t;
  for (uintptr_t& p : t.tables)
    p = ZeroedPage();
  t.page = ZeroedPage();
  for (int level = 0; level < 3; ++level) {
    auto* table = reinterpret_cast<uint64_t*>(t.tables[level]);
    Store(&table[(kVa >> (39 - 9 * level)) & 511],
          platform::EncodeTableEntry(platform::KernelToPhys(t.tables[level + 1])));
  }
  t.leaf = &reinterpret_cast<uint64_t*>(t.tables[3])[(kVa >> 12) & 511];
  return t;
}

void Free(Tree& t) {
  platform::TlbFlushAsid(kAsid);
  for (uintptr_t p : t.tables)
    mm::Pages().FreePages(p, 0);
  mm::Pages().FreePages(t.page, 0);
}

struct Probe {
  uint64_t root_pa;
  Atomic<uint64_t> seen{0};
};

// On another CPU: what that CPU reads at kVa under kAsid. The kernel never reads user memory
// through user addresses (kernel/vm copies through the direct map); this probe does, on
// purpose: a read goes through the CPU's TLB (QEMU's too), where AT walks the tables afresh.
// The translation stays installed between probes (QEMU empties its TLB when TTBR0's ASID
// changes, which would hide a missing TLBI); root_pa 0 puts the empty table back at the end.
void ProbeOtherCpu(void* arg) {
  auto* probe = static_cast<Probe*>(arg);
  const platform::IrqState irq = platform::SaveAndMaskIrqs();
  platform::SetUserTranslation(probe->root_pa, kAsid);
  if (probe->root_pa != 0) {
    probe->seen.Store(*reinterpret_cast<volatile uint64_t*>(kVa), std::memory_order_relaxed);
  }
  platform::RestoreIrqs(irq);
}

// Runs the probe on every CPU; each must read `want`.
void ProbeEveryCpu(Probe& probe, uint64_t want, const char* after) {
  for (uint32_t cpu = 0; cpu < ktest::Cpus(); ++cpu) {
    sched::Join(ktest::Spawn("mmu-probe", &ProbeOtherCpu, &probe, CpuMask::Single(cpu)));
    const uint64_t seen = probe.seen.Load(std::memory_order_relaxed);
    KTEST_CHECK(seen == want, "cpu {} read {:#x} after {}, want {:#x} (a stale TLB entry)", cpu,
                seen, after, want);
  }
}

}  // namespace

// The encoders and decoders agree with each other for every permission set.
KTEST(user_mmu_entry_encoding) {
  const uintptr_t pa = 0x0000'1234'5678'9000;
  for (int bits = 0; bits < 8; ++bits) {
    const platform::PageProt prot{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
    const uint64_t e = platform::EncodeUserPage(pa, prot);
    KTEST_CHECK(platform::EntryValid(e) && !platform::EntryIsTable(e, 3), "prot {}", bits);
    KTEST_CHECK(platform::EntryAddress(e) == pa, "address {:#x}", platform::EntryAddress(e));
    // No write-only pages on Arm: write implies read.
    const platform::PageProt want{prot.read || prot.write, prot.write, prot.exec};
    KTEST_CHECK(platform::EntryProt(e) == want, "prot {} came back as r{} w{} x{}", bits,
                platform::EntryProt(e).read, platform::EntryProt(e).write,
                platform::EntryProt(e).exec);
    KTEST_CHECK((e & (uint64_t{1} << 53)) != 0, "user pages are never executable at EL1");
    KTEST_CHECK((e & (uint64_t{1} << 11)) != 0, "user pages are tagged with the ASID (nG)");
  }
  const uint64_t table = platform::EncodeTableEntry(pa);
  for (int level = 0; level < 3; ++level)
    KTEST_CHECK(platform::EntryIsTable(table, level), "table entry at level {}", level);
  KTEST_CHECK(platform::EntryAddress(table) == pa, "table address");
  KTEST_CHECK(!platform::EntryValid(platform::kInvalidEntry), "0 is invalid");
  const uint32_t bits = platform::AsidBits();
  const bool tcr_as = ((LICHEN_READ_SYSREG(tcr_el1) >> 36) & 1) != 0;
  KTEST_CHECK((bits == 16 && tcr_as) || (bits == 8 && !tcr_as), "{} ASID bits, TCR.AS {}", bits,
              tcr_as);
  // The direct map: what KernelToPhys says of a page the allocator handed out is where the
  // MMU puts it, and PhysToKernel goes back.
  const uintptr_t kva = ZeroedPage();
  const uint64_t par = aarch64::TranslateKernelRead(kva);
  KTEST_CHECK((par & aarch64::kParAddressMask) == platform::KernelToPhys(kva), "{:#x} -> {:#x}",
              kva, par);
  KTEST_CHECK(platform::PhysToKernel(platform::KernelToPhys(kva)) == kva, "{:#x}", kva);
  mm::Pages().FreePages(kva, 0);
}

// The MMU walks what the encoders wrote, with EL0's permissions; a page moved to other memory
// is seen there by every CPU after TlbFlushPage / TlbFlushAsid.
KTEST(user_mmu_tables_and_tlb) {
  Tree t = Build();
  const uint64_t root_pa = platform::KernelToPhys(t.tables[0]);
  const uint64_t page_pa = platform::KernelToPhys(t.page);
  {
    const platform::IrqState irq = platform::SaveAndMaskIrqs();
    platform::SetUserTranslation(root_pa, kAsid);
    Store(t.leaf, platform::EncodeUserPage(page_pa, {true, true, false}));
    platform::TlbFlushPage(kAsid, kVa);  // publishes the entry to the walker (DSB ISHST)
    const uint64_t par = El0Translate(kVa, false);
    const bool read = El0Can(kVa, false);
    const bool write = El0Can(kVa, true);
    platform::SetUserTranslation(0, 0);
    const bool after_reset = El0Can(kVa, false);
    platform::RestoreIrqs(irq);
    KTEST_CHECK(read && write, "read/write page: EL0 read {} write {}", read, write);
    KTEST_CHECK((par & aarch64::kParAddressMask) == page_pa, "walk gave {:#x}, want {:#x}",
                par & aarch64::kParAddressMask, page_pa);
    KTEST_CHECK(!after_reset, "with root 0 the user half still translates");
  }
  // Every CPU caches kVa -> page A; then kVa moves to page B (break before make: invalid,
  // flush, new entry), and every CPU must read B. Then back to A through TlbFlushAsid.
  const uintptr_t other = ZeroedPage();
  *reinterpret_cast<uint64_t*>(t.page) = 0xaaaa;
  *reinterpret_cast<uint64_t*>(other) = 0xbbbb;
  Probe probe;
  probe.root_pa = root_pa;
  ProbeEveryCpu(probe, 0xaaaa, "the first mapping");
  Store(t.leaf, platform::kInvalidEntry);
  platform::TlbFlushPage(kAsid, kVa);
  Store(t.leaf, platform::EncodeUserPage(platform::KernelToPhys(other), {true, true, false}));
  ProbeEveryCpu(probe, 0xbbbb, "TlbFlushPage");
  Store(t.leaf, platform::kInvalidEntry);
  platform::TlbFlushAsid(kAsid);
  Store(t.leaf, platform::EncodeUserPage(page_pa, {true, true, false}));
  ProbeEveryCpu(probe, 0xaaaa, "TlbFlushAsid");
  probe.root_pa = 0;  // every CPU back to no user translation
  for (uint32_t cpu = 0; cpu < ktest::Cpus(); ++cpu)
    sched::Join(ktest::Spawn("mmu-reset", &ProbeOtherCpu, &probe, CpuMask::Single(cpu)));
  mm::Pages().FreePages(other, 0);
  Free(t);
}

}  // namespace lichen
