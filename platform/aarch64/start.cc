// The C++ half of booting: device tree and page tables before the MMU (boot CPU), then
// console, GIC, timer and the secondary CPUs, then the core's KernelMain/SecondaryMain.
#include <optional>
#include <string_view>

#include "kernel/base/platform.h"
#include "kernel/irq.h"
#include "lib/assert.h"
#include "lib/log.h"
#include "lib/units.h"
#include "platform/aarch64/cmdline.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/entry_points.h"
#include "platform/aarch64/fatal.h"
#include "platform/aarch64/fdt.h"
#include "platform/aarch64/gic.h"
#include "platform/aarch64/image.h"
#include "platform/aarch64/mmu.h"
#include "platform/aarch64/psci.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/timer.h"

extern "C" {
void lichen_secondary_entry();  // boot.S: where PSCI CPU_ON starts the secondaries
}

namespace lichen::aarch64 {

static_assert(BootInfo::kMaxCpus == LICHEN_AARCH64_MAX_CPUS, "one stack slot per BootInfo CPU");

namespace {

// QEMU virt's RAM base: where its -kernel loader puts the DTB for a non-Linux (ELF) image
// when it passes none in x0.
constexpr uint64_t kQemuVirtRamBase = 0x40000000;
// How long the boot CPU waits for a started secondary to report online: a hang detector. The
// CPUs already online wait for the release in WFE, which TCG runs as a busy yield, so with
// tens of vCPUs on a 2-core host a new CPU may wait seconds for a host core (64 vCPUs: the
// 57th took over 2 s).
constexpr uint64_t kCpuOnTimeoutNs = 20 * kSec;
// The least free RAM the core is handed: less cannot hold its per-CPU state and first tasks,
// and would end in a panic inside the page allocator instead of a boot error naming the cause.
constexpr uint64_t kMinFreeRam = 1 << 20;

constexpr uint64_t kPage = LICHEN_PAGE_SIZE;
constexpr uint64_t AlignUp(uint64_t v) {
  return (v + kPage - 1) & ~(kPage - 1);
}
constexpr uint64_t AlignDown(uint64_t v) {
  return v & ~(kPage - 1);
}

// Filled before the MMU is on (so zero-initialized, in .bss); final before KernelMain.
BootInfo g_info;
constinit BootStatus g_dt_status = BootStatus::Ok();
constinit BootStatus g_mmu_status = BootStatus::Ok();
// Where the device tree was found (a string literal; set before the MMU is on).
const char* g_dtb_source = "";
// Set (release) by ReleaseSecondaryCpus(); secondaries wait for it before SecondaryMain.
Atomic<bool> g_release_secondaries{false};

// Cleans the data cache lines of [p, p + size) to the point of coherency, so that a CPU with
// its MMU (and so its caches) still off reads what this CPU wrote.
void CleanToPoC(const void* p, size_t size) {
  const uint64_t line = uint64_t{4} << ((LICHEN_READ_SYSREG(ctr_el0) >> 16) & 0xf);
  const uint64_t end = reinterpret_cast<uint64_t>(p) + size;
  for (uint64_t a = reinterpret_cast<uint64_t>(p) & ~(line - 1); a < end; a += line) {
    asm volatile("dc cvac, %0" ::"r"(a) : "memory");
  }
  DsbSy();
}

// The free range: from the end of the image to the end of its RAM range, minus whatever a
// reservation or the DTB occupies above the image.
BootStatus ComputeFreeRange(BootInfo& info) {
  const uint64_t image_start = reinterpret_cast<uint64_t>(__kernel_start);
  const uint64_t image_end = reinterpret_cast<uint64_t>(__kernel_end);
  info.kernel_image = MemRange{image_start, image_end - image_start};
  const MemRange* ram = nullptr;
  for (uint32_t i = 0; i < info.mem_count; ++i) {
    if (info.mem[i].Contains(image_start) && info.mem[i].Contains(image_end - 1))
      ram = &info.mem[i];
  }
  if (ram == nullptr) {
    return BootStatus::Error("the kernel image is not inside RAM the device tree describes",
                             image_start);
  }
  uint64_t base = image_end;
  uint64_t end = AlignDown(ram->end());
  auto clip = [&](const MemRange& r) {
    if (r.size == 0 || r.end() <= base || r.base >= end) return;
    if (r.base <= base) {
      base = AlignUp(r.end());  // the reservation starts at or below the free start
    } else {
      end = AlignDown(r.base);
    }
  };
  for (uint32_t i = 0; i < info.reserved_count; ++i)
    clip(info.reserved[i]);
  clip(MemRange{info.dtb_address, info.dtb_size});
  clip(info.initrd);
  info.free_range = base < end ? MemRange{base, end - base} : MemRange{base, 0};
  // Above the obstacle that ended the free range: the largest gap between the obstacles up to
  // the end of the RAM range. Each round steps over whatever covers `cur`, then takes the gap
  // up to the next obstacle; every round moves past one obstacle, so there are few.
  const uint64_t ram_end = AlignDown(ram->end());
  auto obstacles = [&](auto&& visit) {
    for (uint32_t i = 0; i < info.reserved_count; ++i)
      visit(info.reserved[i]);
    visit(MemRange{info.dtb_address, info.dtb_size});
    visit(info.initrd);
  };
  info.free_range_high = MemRange{};
  uint64_t cur = end;
  for (uint32_t round = 0; round < BootInfo::kMaxReserved + 3 && cur < ram_end; ++round) {
    for (bool moved = true; moved;) {
      moved = false;
      obstacles([&](const MemRange& r) {
        if (r.size != 0 && r.base <= cur && cur < r.end()) {
          cur = AlignUp(r.end());
          moved = true;
        }
      });
    }
    uint64_t gap_end = ram_end;
    obstacles([&](const MemRange& r) {
      if (r.size != 0 && r.base >= cur && r.base < gap_end) gap_end = AlignDown(r.base);
    });
    if (cur < gap_end && gap_end - cur > info.free_range_high.size)
      info.free_range_high = MemRange{cur, gap_end - cur};
    cur = gap_end;
  }
  if (info.free_range.size < kMinFreeRam) {
    return BootStatus::Error("less than 1 MiB of free RAM after the kernel image (bytes)",
                             info.free_range.size);
  }
  return BootStatus::Ok();
}

void RunStaticConstructors() {
  using Constructor = void (*)();
  auto* first = reinterpret_cast<Constructor*>(__init_array_start);
  auto* last = reinterpret_cast<Constructor*>(__init_array_end);
  for (Constructor* c = first; c != last; ++c)
    (*c)();
}

// The core's IPI arrives as SGI kIpiSgi.
void OnIpiInterrupt(void* /*arg*/, uint32_t /*intid*/) {
  irq::OnIpi();
}

// GIC redistributor + CPU interface, timer and IPI for the calling CPU.
BootStatus InitThisCpu(ArchCpu& local) {
  LICHEN_TRY_BOOT(gic::InitCpu(g_info, local));
  timer::InitCpu();
  gic::EnablePrivate(gic::kIpiSgi);
  return BootStatus::Ok();
}

const char* ConduitName(PsciConduit c) {
  switch (c) {
    case PsciConduit::kHvc:
      return "HVC";
    case PsciConduit::kSmc:
      return "SMC";
    case PsciConduit::kNone:
      break;
  }
  return "none";
}

void PrintBootInfo(const BootInfo& info) {
  console::Print("lichen: device tree at {:#x} ({} bytes, {}), command line \"{}\"{}",
                 info.dtb_address, info.dtb_size, g_dtb_source, info.cmdline,
                 info.cmdline_truncated ? " (truncated)" : "");
  for (uint32_t i = 0; i < info.mem_count; ++i) {
    console::Print("lichen: RAM {:#x}-{:#x} ({} MiB)", info.mem[i].base, info.mem[i].end(),
                   info.mem[i].size >> 20);
  }
  for (uint32_t i = 0; i < info.reserved_count; ++i) {
    console::Print("lichen: reserved {:#x}-{:#x}", info.reserved[i].base, info.reserved[i].end());
  }
  console::Print("lichen: kernel image {:#x}-{:#x}, free RAM {:#x}-{:#x} ({} KiB)",
                 info.kernel_image.base, info.kernel_image.end(), info.free_range.base,
                 info.free_range.end(), info.free_range.size >> 10);
  if (info.initrd.size != 0) {
    console::Print("lichen: initrd {:#x}-{:#x} ({} KiB)", info.initrd.base, info.initrd.end(),
                   info.initrd.size >> 10);
  }
  if (info.free_range_high.size != 0) {
    console::Print("lichen: free RAM above it {:#x}-{:#x} ({} KiB)", info.free_range_high.base,
                   info.free_range_high.end(), info.free_range_high.size >> 10);
  }
  console::LineBuffer line;
  Format(line, "lichen: GICv3 distributor {:#x}, redistributors", info.gicd_base);
  for (uint32_t i = 0; i < info.gicr_region_count; ++i) {
    Format(line, " {:#x}-{:#x}", info.gicr_regions[i].base, info.gicr_regions[i].end());
  }
  Format(line, "; PL011 {:#x}", info.uart_base);
  line.EndLine();
  console::Write(line.view());
  const uint32_t psci_version = psci::Version();
  console::Print(
      "lichen: timer {} Hz, INTIDs virt {} phys {} hyp {}; PSCI {}.{} via {}; page tables {}/{} "
      "pages",
      info.timer_frequency_hz, info.timer_intid_virt, info.timer_intid_phys, info.timer_intid_hyp,
      psci_version >> 16, psci_version & 0xffff, ConduitName(info.psci_conduit),
      PageTablePagesUsed(), kPageTablePoolPages);
}

// Starts the other CPUs of the device tree one at a time (so logical ids are dense and in
// tree order), each with its own slot of stacks and ArchCpu. Returns how many CPUs are
// online, boot CPU included, and rewrites info.cpu_mpidr in logical order.
uint32_t StartSecondaries(BootInfo& info, uint64_t boot_mpidr) {
  uint32_t limit = BootInfo::kMaxCpus;
  if (auto v = CmdlineOption(info.cmdline, "maxcpus")) {
    if (auto n = ParseUint(*v); n && *n >= 1 && *n < limit) limit = static_cast<uint32_t>(*n);
  }
  if (info.dt_cpu_count > BootInfo::kMaxCpus) {
    console::Print("lichen: warning: the device tree lists {} CPUs, this platform supports {}",
                   info.dt_cpu_count, BootInfo::kMaxCpus);
  }
  uint64_t logical[BootInfo::kMaxCpus] = {boot_mpidr};
  uint32_t online = 1;
  for (uint32_t i = 0; i < info.cpu_count && online < limit; ++i) {
    const uint64_t mpidr = info.cpu_mpidr[i];
    if (mpidr == boot_mpidr) continue;
    if (psci::Conduit() == PsciConduit::kNone) {
      console::Print("lichen: warning: no PSCI in the device tree: secondary CPUs stay off");
      break;
    }
    ArchCpu& local = ArchCpuOf(online);
    local.cpu = online;
    local.mpidr = mpidr;
    local.exception_stack_top = ExceptionStackTop(online);
    local.fatal_depth = 0;
    local.online.Store(0, std::memory_order_relaxed);
    CleanToPoC(&local, sizeof(local));  // read by the secondary's vectors before its MMU is on
    // The secondary starts with its MMU off: at the entry's physical address.
    const BootStatus on = psci::CpuOn(
        mpidr, VirtToPhys(reinterpret_cast<uintptr_t>(&lichen_secondary_entry)), online);
    if (!on.ok()) {
      console::Print("lichen: warning: CPU with mpidr {:#x} did not start: {}", mpidr,
                     on.message());
      continue;
    }
    const uint64_t deadline = platform::Now() + kCpuOnTimeoutNs;
    while (local.online.Load(std::memory_order_acquire) == 0) {
      if (platform::Now() > deadline) {
        FatalStatus("boot", BootStatus::Error("a started CPU never came online (mpidr)", mpidr),
                    ExitCode::kBootError);
      }
      platform::CpuRelax();
    }
    logical[online] = mpidr;
    ++online;
    SetStartedCpuCount(online);
  }
  for (uint32_t i = 0; i < BootInfo::kMaxCpus; ++i)
    info.cpu_mpidr[i] = i < online ? logical[i] : 0;
  info.cpu_count = online;
  return online;
}

}  // namespace

const BootInfo& TheBootInfo() {
  return g_info;
}

void ReleaseSecondaryCpus() {
  g_release_secondaries.Store(true, std::memory_order_release);
  Sev();
}

}  // namespace lichen::aarch64

using namespace lichen::aarch64;  // NOLINT: file-local entry points below

// Boot CPU, MMU off (this file is compiled with -mstrict-align): find and parse the device
// tree, then build the page tables. Nothing here can print; errors are kept for BootMain.
extern "C" void LichenBootEarly(uint64_t dtb_hint, uint64_t entry_el) {
  lichen::BootInfo& info = g_info;
  info.entry_el = static_cast<uint32_t>(entry_el);
  const void* dtb = nullptr;
  if (dtb_hint != 0 && lichen::fdt::HasMagic(reinterpret_cast<const void*>(dtb_hint))) {
    dtb = reinterpret_cast<const void*>(dtb_hint);
    g_dtb_source = "from x0";
  } else if (lichen::fdt::HasMagic(reinterpret_cast<const void*>(kQemuVirtRamBase))) {
    dtb = reinterpret_cast<const void*>(kQemuVirtRamBase);
    g_dtb_source =
        dtb_hint == 0 ? "x0 was 0: found at the RAM base" : "x0 invalid: found at the RAM base";
  }
  lichen::fdt::Blob blob;
  g_dt_status = dtb == nullptr ? BootStatus::Error(
                                     "no device tree: x0 was 0 and RAM base holds no FDT", dtb_hint)
                               : lichen::fdt::Blob::Open(dtb, lichen::fdt::kMaxBlobSize, blob);
  if (g_dt_status.ok()) {
    info.dtb_address = reinterpret_cast<uint64_t>(dtb);
    info.dtb_size = blob.total_size();
    g_dt_status = lichen::fdt::ParseBootInfo(blob, info);
  }
  if (g_dt_status.ok()) g_dt_status = ComputeFreeRange(info);
  if (g_dt_status.ok()) {
    g_mmu_status = BuildKernelPageTables(info);
  } else {
    BuildFallbackPageTables();
  }
}

namespace {

// A status made before the MMU was on points at its message's physical address.
BootStatus RebasedStatus(const BootStatus& status) {
  return status.ok() ? status : BootStatus::Error(Rebased(status.message()), status.detail());
}

}  // namespace

// Boot CPU, MMU and caches on, at the linked addresses, TTBR0 empty.
extern "C" [[noreturn]] void LichenBootMain() {
  // The pointers LichenBootEarly stored were physical, and the identity map is gone.
  g_dtb_source = Rebased(g_dtb_source);
  g_dt_status = RebasedStatus(g_dt_status);
  g_mmu_status = RebasedStatus(g_mmu_status);
  RunStaticConstructors();
  lichen::SetPanicHandler(&PanicHandler);
  lichen::BootInfo& info = g_info;
  // The fallback page tables (any boot error) map only QEMU's UART: the device tree's may be
  // unmapped then.
  console::Init(
      PhysToVirt(g_dt_status.ok() && g_mmu_status.ok() ? info.uart_base : kQemuVirtUartBase));
  lichen::SetLogWriter(&console::LogWriter);
  UnmaskSError();
  console::Print("");
  console::Print("lichen: aarch64 on QEMU virt: entered at EL{}, running at EL1, MMU and caches on",
                 info.entry_el);
  if (!g_dt_status.ok()) FatalStatus("boot", g_dt_status, ExitCode::kBootError);
  if (!g_mmu_status.ok()) FatalStatus("boot", g_mmu_status, ExitCode::kBootError);
  psci::SetConduit(info.psci_conduit);

  ArchCpu& local = ArchCpuOf(0);
  local.mpidr = LICHEN_READ_SYSREG(mpidr_el1) & kMpidrAffinityMask;
  bool listed = false;
  for (uint32_t i = 0; i < info.cpu_count; ++i)
    listed |= info.cpu_mpidr[i] == local.mpidr;
  if (!listed) {
    FatalStatus(
        "boot",
        BootStatus::Error("the boot CPU is not in the device tree's /cpus (mpidr)", local.mpidr),
        ExitCode::kBootError);
  }
  BootStatus status = timer::Init(info.timer_intid_virt);
  if (status.ok()) status = gic::InitDistributor(info, local.mpidr);
  if (status.ok()) status = gic::RegisterHandler(gic::kIpiSgi, OnIpiInterrupt, nullptr);
  if (status.ok()) status = InitThisCpu(local);
  if (!status.ok()) FatalStatus("boot: interrupt controller / timer", status, ExitCode::kBootError);
  info.timer_frequency_hz = timer::FrequencyHz();
  PrintBootInfo(info);
  local.online.Store(1, std::memory_order_release);
  console::Print("lichen: cpu0 online: mpidr {:#x} (boot CPU)", local.mpidr);

  const uint32_t online = StartSecondaries(info, local.mpidr);
  console::Print("lichen: {} CPU{} online", online, online == 1 ? "" : "s");

  lichen::KernelMain(info);
  console::Print("lichen: KernelMain returned: powering off");
  PowerOff(ExitCode::kSuccess);
}

// Secondary CPU `cpu`, MMU and caches on, stacks and ArchCpu set up by boot.S.
extern "C" [[noreturn]] void LichenSecondaryBoot(uint32_t cpu, uint64_t entry_el) {
  ArchCpu& local = ThisArchCpu();
  UnmaskSError();
  const BootStatus status = InitThisCpu(local);
  if (!status.ok()) FatalStatus("secondary CPU bring-up", status, ExitCode::kBootError);
  console::Print("lichen: cpu{} online: mpidr {:#x}, entered at EL{}", cpu, local.mpidr, entry_el);
  local.online.Store(1, std::memory_order_release);
  while (!g_release_secondaries.Load(std::memory_order_acquire)) {
    asm volatile("wfe" ::: "memory");
  }
  lichen::SecondaryMain(cpu);
  console::Print("lichen: cpu{}: SecondaryMain returned; parking the CPU", cpu);
  lichen_park();
}
