#include "platform/aarch64/gic.h"

#include "kernel/base/platform.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/ticket_lock.h"

namespace lichen::aarch64::gic {

namespace {

// Distributor registers (GICv3 architecture spec, 12.9).
constexpr uintptr_t kGicdCtlr = 0x0000;
constexpr uintptr_t kGicdTyper = 0x0004;
constexpr uintptr_t kGicdIgroupr = 0x0080;
constexpr uintptr_t kGicdIcenabler = 0x0180;
constexpr uintptr_t kGicdIcpendr = 0x0280;
constexpr uintptr_t kGicdIcactiver = 0x0380;
constexpr uintptr_t kGicdIpriorityr = 0x0400;
constexpr uintptr_t kGicdIrouter = 0x6000;  // 64-bit per INTID, from INTID 32 at +0x100
constexpr uintptr_t kGicdPidr2 = 0xffe8;
// GICD_CTLR bits. Non-secure view (DS = 0): EnableGrp1NS = 0, EnableGrp1A = 1, ARE_NS = 4.
// Single security state (DS = 1, QEMU virt without secure=on): EnableGrp0 = 0,
// EnableGrp1 = 1, ARE = 4. Writing bits 0, 1 and 4 is right in both views.
constexpr uint32_t kGicdCtlrEnables = (1u << 0) | (1u << 1);
constexpr uint32_t kGicdCtlrAre = 1u << 4;
constexpr uint32_t kGicdCtlrRwp = 1u << 31;

// Redistributor, RD_base frame (12.10).
constexpr uintptr_t kGicrCtlr = 0x0000;
constexpr uintptr_t kGicrTyper = 0x0008;
constexpr uintptr_t kGicrWaker = 0x0014;
constexpr uintptr_t kGicrPidr2 = 0xffe8;
constexpr uint32_t kGicrCtlrRwp = 1u << 3;
constexpr uint64_t kGicrTyperVlpis = uint64_t{1} << 1;  // GICv4 vLPIs: two more 64 KiB frames
constexpr uint64_t kGicrTyperLast = uint64_t{1} << 4;   // last redistributor of its region
constexpr uint32_t kGicrWakerProcessorSleep = 1u << 1;
constexpr uint32_t kGicrWakerChildrenAsleep = 1u << 2;
// Redistributor, SGI_base frame (RD_base + 64 KiB): SGI/PPI registers of the one CPU.
constexpr uintptr_t kSgiBase = 0x10000;
constexpr uintptr_t kGicrIgroupr0 = kSgiBase + 0x0080;
constexpr uintptr_t kGicrIsenabler0 = kSgiBase + 0x0100;
constexpr uintptr_t kGicrIcenabler0 = kSgiBase + 0x0180;
constexpr uintptr_t kGicrIcpendr0 = kSgiBase + 0x0280;
constexpr uintptr_t kGicrIcactiver0 = kSgiBase + 0x0380;
constexpr uintptr_t kGicrIpriorityr = kSgiBase + 0x0400;
// A GICv3 redistributor is RD_base + SGI_base; GICv4 adds VLPI_base and a reserved frame.
constexpr uint64_t kRedistributorSizeV3 = 0x20000;
constexpr uint64_t kRedistributorSizeV4 = 0x40000;

// Priority of every interrupt, and the mask that lets them all through (lower = higher).
constexpr uint32_t kDefaultPriority4 = 0xa0a0a0a0;
constexpr uint64_t kPriorityMask = 0xf0;

// Polling bound for RWP / ChildrenAsleep (the GIC answers in a few accesses; a stuck bit
// means broken hardware or a wrong address, reported instead of hanging).
constexpr uint32_t kPollLimit = 10'000'000;

uintptr_t g_gicd = 0;

// The handler table (see gic.h for why dispatch needs no lock).
struct Slot {
  Atomic<Handler> handler{nullptr};
  void* arg = nullptr;  // written before `handler` is published, never after
};
Slot g_slots[kMaxHandlers];
// Serializes registrations only. Leaf lock.
UncheckedTicketLock g_register_lock;

// Waits for a register-write-pending bit to clear.
BootStatus WaitClear(uintptr_t reg, uint32_t bit, const char* what) {
  for (uint32_t i = 0; i < kPollLimit; ++i) {
    if ((Read32(reg) & bit) == 0) return BootStatus::Ok();
    platform::CpuRelax();
  }
  return BootStatus::Error(what, reg);
}

// MPIDR affinity packed the way GICR_TYPER[63:32] holds it: Aff3.Aff2.Aff1.Aff0.
uint32_t PackedAffinity(uint64_t mpidr) {
  return static_cast<uint32_t>(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
}

// Finds the redistributor whose GICR_TYPER affinity is `mpidr`'s.
BootStatus FindRedistributor(const BootInfo& info, uint64_t mpidr, uintptr_t& out) {
  const uint32_t want = PackedAffinity(mpidr);
  for (uint32_t r = 0; r < info.gicr_region_count; ++r) {
    const MemRange& region = info.gicr_regions[r];
    uint64_t base = PhysToVirt(region.base);
    while (base + kRedistributorSizeV3 <= PhysToVirt(region.end())) {
      const uint32_t arch = (Read32(base + kGicrPidr2) >> 4) & 0xf;
      if (arch != 3 && arch != 4) {
        return BootStatus::Error("GICv3: no redistributor where the device tree says",
                                 VirtToPhys(base));
      }
      const uint64_t typer = Read64(base + kGicrTyper);
      if (static_cast<uint32_t>(typer >> 32) == want) {
        out = base;
        return BootStatus::Ok();
      }
      if (typer & kGicrTyperLast) break;
      base += info.gicr_stride != 0            ? info.gicr_stride
              : (typer & kGicrTyperVlpis) != 0 ? kRedistributorSizeV4
                                               : kRedistributorSizeV3;
    }
  }
  return BootStatus::Error("GICv3: no redistributor for this CPU's MPIDR", mpidr);
}

}  // namespace

BootStatus InitDistributor(const BootInfo& info, uint64_t boot_mpidr) {
  g_gicd = PhysToVirt(info.gicd_base);
  const uint32_t arch = (Read32(g_gicd + kGicdPidr2) >> 4) & 0xf;
  if (arch != 3 && arch != 4) {
    return BootStatus::Error("GICv3: distributor is not GICv3/v4 (GICD_PIDR2.ArchRev)", arch);
  }
  // Off, then affinity routing on (ARE may only change while the groups are disabled).
  Write32(g_gicd + kGicdCtlr, 0);
  LICHEN_TRY_BOOT(WaitClear(g_gicd + kGicdCtlr, kGicdCtlrRwp, "GICv3: GICD_CTLR.RWP stuck"));
  Write32(g_gicd + kGicdCtlr, kGicdCtlrAre);
  LICHEN_TRY_BOOT(WaitClear(g_gicd + kGicdCtlr, kGicdCtlrRwp, "GICv3: GICD_CTLR.RWP stuck"));
  if ((Read32(g_gicd + kGicdCtlr) & kGicdCtlrAre) == 0) {
    return BootStatus::Error("GICv3: affinity routing (GICD_CTLR.ARE) cannot be enabled");
  }
  // SPIs: 32 * (ITLinesNumber + 1) INTIDs, at most 1020.
  uint32_t lines = 32 * ((Read32(g_gicd + kGicdTyper) & 0x1f) + 1);
  if (lines > kFirstSpecialIntid) lines = kFirstSpecialIntid;
  for (uint32_t i = 32; i < lines; i += 32) {
    Write32(g_gicd + kGicdIcenabler + i / 8, 0xffffffff);
    Write32(g_gicd + kGicdIcpendr + i / 8, 0xffffffff);
    Write32(g_gicd + kGicdIcactiver + i / 8, 0xffffffff);
    Write32(g_gicd + kGicdIgroupr + i / 8, 0xffffffff);
  }
  LICHEN_TRY_BOOT(WaitClear(g_gicd + kGicdCtlr, kGicdCtlrRwp, "GICv3: GICD_CTLR.RWP stuck"));
  for (uint32_t i = 32; i < lines; i += 4)
    Write32(g_gicd + kGicdIpriorityr + i, kDefaultPriority4);
  const uint64_t route = boot_mpidr & kMpidrAffinityMask;  // Interrupt_Routing_Mode 0: this PE
  for (uint32_t i = 32; i < lines; ++i)
    Write64(g_gicd + kGicdIrouter + 8 * i, route);
  Write32(g_gicd + kGicdCtlr, kGicdCtlrAre | kGicdCtlrEnables);
  LICHEN_TRY_BOOT(WaitClear(g_gicd + kGicdCtlr, kGicdCtlrRwp, "GICv3: GICD_CTLR.RWP stuck"));
  return BootStatus::Ok();
}

BootStatus InitCpu(const BootInfo& info, ArchCpu& local) {
  uintptr_t rd = 0;
  LICHEN_TRY_BOOT(FindRedistributor(info, local.mpidr, rd));
  local.gicr_base = rd;

  // Wake the redistributor: clear ProcessorSleep, wait for ChildrenAsleep to clear.
  Write32(rd + kGicrWaker, Read32(rd + kGicrWaker) & ~kGicrWakerProcessorSleep);
  LICHEN_TRY_BOOT(
      WaitClear(rd + kGicrWaker, kGicrWakerChildrenAsleep, "GICv3: redistributor does not wake"));

  // SGIs and PPIs: all disabled, nothing pending or active, Group 1, default priority.
  Write32(rd + kGicrIcenabler0, 0xffffffff);
  LICHEN_TRY_BOOT(WaitClear(rd + kGicrCtlr, kGicrCtlrRwp, "GICv3: GICR_CTLR.RWP stuck"));
  Write32(rd + kGicrIcpendr0, 0xffffffff);
  Write32(rd + kGicrIcactiver0, 0xffffffff);
  Write32(rd + kGicrIgroupr0, 0xffffffff);
  for (uint32_t i = 0; i < 32; i += 4)
    Write32(rd + kGicrIpriorityr + i, kDefaultPriority4);

  // CPU interface: system-register access (SRE; DFB/DIB keep the legacy bypass off), accept
  // every priority, no sub-priority grouping, EOI does drop + deactivate, Group 1 on.
  LICHEN_WRITE_SYSREG(icc_sre_el1, LICHEN_READ_SYSREG(icc_sre_el1) | 0x7);
  Isb();
  if ((LICHEN_READ_SYSREG(icc_sre_el1) & 1) == 0) {
    return BootStatus::Error("GICv3: ICC_SRE_EL1.SRE stays 0 (system registers disabled at EL2)");
  }
  LICHEN_WRITE_SYSREG(icc_pmr_el1, kPriorityMask);
  LICHEN_WRITE_SYSREG(icc_bpr1_el1, 0);
  LICHEN_WRITE_SYSREG(icc_ctlr_el1, LICHEN_READ_SYSREG(icc_ctlr_el1) & ~uint64_t{1 << 1});
  LICHEN_WRITE_SYSREG(icc_igrpen1_el1, 1);
  Isb();
  return BootStatus::Ok();
}

void EnablePrivate(uint32_t intid) {
  const uintptr_t rd = ThisArchCpu().gicr_base;
  Write32(rd + kGicrIsenabler0, 1u << (intid & 31));
}

void SendSgi(uint32_t intid, CpuMask targets) {
  // The targets must see our earlier stores (messages) before they take the interrupt.
  DsbIshSt();
  CpuMask rest = targets & CpuMask::FirstN(StartedCpuCount());
  while (!rest.Empty()) {
    // One write reaches up to 16 CPUs sharing Aff3.Aff2.Aff1 and the same Aff0 / 16 (RS).
    const uint64_t first = ArchCpuOf(rest.First()).mpidr;
    const uint64_t group = first & ~uint64_t{0xff};
    const uint64_t range = (first & 0xff) / 16;
    uint64_t list = 0;
    for (uint32_t cpu : rest) {
      const uint64_t m = ArchCpuOf(cpu).mpidr;
      if ((m & ~uint64_t{0xff}) == group && (m & 0xff) / 16 == range) {
        list |= uint64_t{1} << ((m & 0xff) % 16);
        rest.Clear(cpu);
      }
    }
    // ICC_SGI1R_EL1: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32], RS [47:44],
    // Aff3 [55:48]; IRM (bit 40) = 0: only the listed CPUs.
    const uint64_t value = list | ((first >> 8) & 0xff) << 16 | uint64_t{intid & 0xf} << 24 |
                           ((first >> 16) & 0xff) << 32 | range << 44 |
                           ((first >> 32) & 0xff) << 48;
    LICHEN_WRITE_SYSREG(icc_sgi1r_el1, value);
  }
  Isb();
}

uint32_t Acknowledge() {
  const uint32_t intid = static_cast<uint32_t>(LICHEN_READ_SYSREG(icc_iar1_el1) & 0xffffff);
  // The handler's memory reads must not be satisfied before the acknowledge (they must see
  // what the interrupt's sender stored before sending it).
  DsbSy();
  return intid;
}

void EndOfInterrupt(uint32_t intid) {
  LICHEN_WRITE_SYSREG(icc_eoir1_el1, intid);
  Isb();
}

// Registration is serialized by g_register_lock; dispatch reads slots without it (gic.h).
BootStatus RegisterHandler(uint32_t intid, Handler handler, void* arg) {
  if (intid >= kMaxHandlers || handler == nullptr) {
    return BootStatus::Error("interrupt manager: INTID out of range", intid);
  }
  IrqSaveLockGuard guard(g_register_lock);
  Slot& slot = g_slots[intid];
  if (slot.handler.Load(std::memory_order_relaxed) != nullptr) {
    return BootStatus::Error("interrupt manager: INTID already has a handler", intid);
  }
  slot.arg = arg;
  slot.handler.Store(handler, std::memory_order_release);
  return BootStatus::Ok();
}

bool Dispatch(uint32_t intid) {
  if (intid >= kMaxHandlers) return false;
  const Slot& slot = g_slots[intid];
  const Handler handler = slot.handler.Load(std::memory_order_acquire);
  if (handler == nullptr) return false;
  handler(slot.arg, intid);
  return true;
}

}  // namespace lichen::aarch64::gic
