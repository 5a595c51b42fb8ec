// Runs before the MMU is on (compiled with -mstrict-align): no unaligned accesses, no atomics,
// nothing but the table pool and the read-only BootInfo.
#include "platform/aarch64/mmu.h"

#include <cstddef>

#include "platform/aarch64/asm_defs.h"
#include "platform/aarch64/image.h"

extern "C" {
// The pools, page-aligned in .bss (zeroed by boot.S before any of this runs).
[[gnu::section(".bss.pagetables")]] alignas(LICHEN_PAGE_SIZE) uint64_t
    lichen_page_tables[lichen::aarch64::kPageTablePoolPages][512];
[[gnu::section(".bss.pagetables")]] alignas(LICHEN_PAGE_SIZE) uint64_t
    lichen_identity_tables[lichen::aarch64::kIdentityPoolPages][512];
[[gnu::section(".bss.pagetables")]] alignas(LICHEN_PAGE_SIZE) uint64_t lichen_empty_table[512];
}

namespace lichen::aarch64 {

namespace {

// Stage-1 descriptor bits (Arm ARM D8.3, 4 KiB granule).
constexpr uint64_t kDescValid = uint64_t{1} << 0;
constexpr uint64_t kDescTableOrPage = uint64_t{1} << 1;  // level 1-2: table; level 3: page
constexpr uint64_t kDescAttrIndxShift = 2;               // AttrIndx[2:0] selects a MAIR field
constexpr uint64_t kDescApReadOnly = uint64_t{1} << 7;  // AP[2]: read-only at EL1 (AP[1]=0: no EL0)
constexpr uint64_t kDescShInner = uint64_t{3} << 8;     // SH: inner shareable
constexpr uint64_t kDescAf = uint64_t{1} << 10;         // access flag (no hardware AF update)
constexpr uint64_t kDescPxn = uint64_t{1} << 53;        // never executable at EL1
constexpr uint64_t kDescUxn = uint64_t{1} << 54;        // never executable at EL0
constexpr uint64_t kDescAddressMask = 0x0000fffffffff000ULL;  // output address [47:12]

constexpr uint64_t kPageSize = LICHEN_PAGE_SIZE;
constexpr uint64_t kOffset = LICHEN_KERNEL_VA_OFFSET;
constexpr uint64_t kPaLimit = LICHEN_DIRECT_MAP_PA_LIMIT;

constexpr uint64_t AlignDown(uint64_t v, uint64_t a) {
  return v & ~(a - 1);
}
constexpr uint64_t AlignUp(uint64_t v, uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}

// Attribute bits of a block or page descriptor for `kind`.
constexpr uint64_t Attributes(MapKind kind) {
  constexpr uint64_t kNormal =
      (uint64_t{LICHEN_MAIR_NORMAL_INDEX} << kDescAttrIndxShift) | kDescShInner | kDescAf;
  switch (kind) {
    case MapKind::kText:
      return kNormal | kDescApReadOnly | kDescUxn;
    case MapKind::kReadOnly:
      return kNormal | kDescApReadOnly | kDescPxn | kDescUxn;
    case MapKind::kData:
      return kNormal | kDescPxn | kDescUxn;
    case MapKind::kDevice:
      return (uint64_t{LICHEN_MAIR_DEVICE_INDEX} << kDescAttrIndxShift) | kDescAf | kDescPxn |
             kDescUxn;
  }
  return 0;
}

// A pool of table pages; page 0 is the root (level 0). The pages are found through a function
// rather than a stored pointer: a pointer in a static initializer would hold the linked (high)
// address, which is not mapped while this runs.
struct Pool {
  bool identity;
  uint32_t count;
  uint32_t used;

  uint64_t* Page(uint32_t i) const {
    return identity ? lichen_identity_tables[i] : lichen_page_tables[i];
  }
  uint64_t* Root() const { return Page(0); }
};

Pool g_kernel{false, kPageTablePoolPages, 0};
Pool g_identity{true, kIdentityPoolPages, 0};

void Clear(Pool& pool) {
  for (uint32_t p = 0; p < pool.count; ++p) {
    uint64_t* page = pool.Page(p);
    for (uint32_t i = 0; i < 512; ++i)
      page[i] = 0;
  }
  pool.used = 1;
}

// Hands out a zeroed table page, or nullptr when the pool is exhausted.
uint64_t* AllocTable(Pool& pool) {
  if (pool.used == pool.count) return nullptr;
  return pool.Page(pool.used++);
}

// Maps [va, end) to physical va - va_minus_pa at `level` (0: 512 GiB entries, never blocks;
// 1: 1 GiB, 2: 2 MiB, 3: 4 KiB). Uses a block where one fits exactly and `pages_only` is
// false; otherwise descends into a next-level table, creating it if needed. Existing mappings
// are never overwritten. Runs with the MMU off: table addresses are physical.
BootStatus MapLevel(Pool& pool, uint64_t* table, int level, uint64_t va, uint64_t end,
                    uint64_t va_minus_pa, uint64_t attrs, bool pages_only) {
  const uint32_t shift = 39 - 9 * static_cast<uint32_t>(level);
  const uint64_t entry_size = uint64_t{1} << shift;
  while (va < end) {
    const uint64_t index = (va >> shift) & 511;
    const uint64_t entry_end = AlignDown(va, entry_size) + entry_size;
    // entry_end wraps to 0 at the very top of the address space.
    const uint64_t next = entry_end != 0 && entry_end < end ? entry_end : end;
    uint64_t& entry = table[index];
    const uint64_t pa = va - va_minus_pa;
    if (level == 3) {
      if (entry & kDescValid) return BootStatus::Error("page tables: overlapping mappings", pa);
      entry = pa | attrs | kDescValid | kDescTableOrPage;
    } else if (!pages_only && level >= 1 && entry == 0 && va % entry_size == 0 &&
               next - va == entry_size) {
      entry = pa | attrs | kDescValid;  // a block descriptor: bit 1 clear
    } else {
      if (entry == 0) {
        uint64_t* child = AllocTable(pool);
        if (child == nullptr) {
          return BootStatus::Error("page tables: table pool exhausted", pool.count);
        }
        entry = reinterpret_cast<uint64_t>(child) | kDescValid | kDescTableOrPage;
      } else if ((entry & (kDescValid | kDescTableOrPage)) != (kDescValid | kDescTableOrPage)) {
        return BootStatus::Error("page tables: range overlaps an existing block mapping", pa);
      }
      LICHEN_TRY_BOOT(MapLevel(pool, reinterpret_cast<uint64_t*>(entry & kDescAddressMask),
                               level + 1, va, next, va_minus_pa, attrs, pages_only));
    }
    va = next;
  }
  return BootStatus::Ok();
}

// Maps the physical pages covering [base, base + size) into the kernel's direct map.
BootStatus Map(uint64_t base, uint64_t size, MapKind kind, bool pages_only) {
  const uint64_t start = AlignDown(base, kPageSize);
  const uint64_t end = AlignUp(base + size, kPageSize);
  if (end <= start) return BootStatus::Ok();
  if (end > kPaLimit)
    return BootStatus::Error("page tables: address beyond the direct map's 47 bits", end);
  return MapLevel(g_kernel, g_kernel.Root(), 0, start + kOffset, end + kOffset, kOffset,
                  Attributes(kind), pages_only);
}

// Maps the whole pages inside [base, base + size) (RAM: partial pages stay unmapped).
BootStatus MapInner(uint64_t base, uint64_t size, MapKind kind) {
  const uint64_t start = AlignUp(base, kPageSize);
  const uint64_t end = AlignDown(base + size, kPageSize);
  if (end <= start) return BootStatus::Ok();
  if (end > kPaLimit)
    return BootStatus::Error("page tables: RAM beyond the direct map's 47 bits", end);
  return MapLevel(g_kernel, g_kernel.Root(), 0, start + kOffset, end + kOffset, kOffset,
                  Attributes(kind), false);
}

// Removes the 4 KiB page of the direct map at physical `pa`, which must be mapped by a
// level-3 page descriptor.
BootStatus UnmapPage(uint64_t pa) {
  const uint64_t va = pa + kOffset;
  uint64_t* table = g_kernel.Root();
  for (int level = 0; level < 3; ++level) {
    const uint64_t entry = table[(va >> (39 - 9 * level)) & 511];
    if ((entry & (kDescValid | kDescTableOrPage)) != (kDescValid | kDescTableOrPage)) {
      return BootStatus::Error("page tables: guard page not mapped with 4 KiB pages", pa);
    }
    table = reinterpret_cast<uint64_t*>(entry & kDescAddressMask);
  }
  table[(va >> 12) & 511] = 0;
  return BootStatus::Ok();
}

uint64_t Addr(const char* symbol) {
  return reinterpret_cast<uint64_t>(symbol);
}

// The kernel image with per-section permissions, and the unmapped stack guard pages. Symbol
// addresses are physical here: this runs with the MMU off, where adrp yields them.
BootStatus MapImage() {
  LICHEN_TRY_BOOT(
      Map(Addr(__text_start), Addr(__text_end) - Addr(__text_start), MapKind::kText, true));
  LICHEN_TRY_BOOT(Map(Addr(__rodata_start), Addr(__rodata_end) - Addr(__rodata_start),
                      MapKind::kReadOnly, true));
  LICHEN_TRY_BOOT(
      Map(Addr(__data_start), Addr(__kernel_end) - Addr(__data_start), MapKind::kData, true));
  for (uint32_t cpu = 0; cpu < LICHEN_AARCH64_MAX_CPUS; ++cpu) {
    LICHEN_TRY_BOOT(UnmapPage(BootStackGuard(cpu)));
    LICHEN_TRY_BOOT(UnmapPage(ExceptionStackGuard(cpu)));
  }
  return BootStatus::Ok();
}

// TTBR0's tables while the MMU comes on: .text.boot at its physical address, nothing else.
void BuildIdentityMap() {
  Clear(g_identity);
  // Cannot fail: .text.boot is a few pages and the pool holds one table per level.
  (void)MapLevel(g_identity, g_identity.Root(), 0, Addr(__boot_text_start), Addr(__boot_text_end),
                 0, Attributes(MapKind::kText), true);
}

BootStatus BuildFull(const BootInfo& info) {
  Clear(g_kernel);
  LICHEN_TRY_BOOT(MapImage());
  // RAM, minus the image (already mapped page by page).
  const uint64_t image_start = Addr(__kernel_start);
  const uint64_t image_end = Addr(__kernel_end);
  for (uint32_t i = 0; i < info.mem_count; ++i) {
    const MemRange& r = info.mem[i];
    if (r.end() <= image_start || r.base >= image_end) {
      LICHEN_TRY_BOOT(MapInner(r.base, r.size, MapKind::kData));
      continue;
    }
    if (r.base < image_start)
      LICHEN_TRY_BOOT(MapInner(r.base, image_start - r.base, MapKind::kData));
    if (r.end() > image_end)
      LICHEN_TRY_BOOT(MapInner(image_end, r.end() - image_end, MapKind::kData));
  }
  // Devices: only what the platform drives.
  LICHEN_TRY_BOOT(Map(info.gicd_base, 0x10000, MapKind::kDevice, false));
  for (uint32_t i = 0; i < info.gicr_region_count; ++i) {
    LICHEN_TRY_BOOT(
        Map(info.gicr_regions[i].base, info.gicr_regions[i].size, MapKind::kDevice, false));
  }
  LICHEN_TRY_BOOT(Map(info.uart_base, kPageSize, MapKind::kDevice, false));
  return BootStatus::Ok();
}

}  // namespace

void BuildFallbackPageTables() {
  BuildIdentityMap();
  Clear(g_kernel);
  // Neither can fail on an empty pool with the linker's layout; if they did, the MMU would
  // come up without a console and the boot CPU would fault into the exception stack.
  (void)MapImage();
  (void)Map(kQemuVirtUartBase, kPageSize, MapKind::kDevice, false);
}

BootStatus BuildKernelPageTables(const BootInfo& info) {
  BuildIdentityMap();
  const BootStatus status = BuildFull(info);
  if (!status.ok()) BuildFallbackPageTables();
  return status;
}

uint32_t PageTablePagesUsed() {
  return g_kernel.used;
}

}  // namespace lichen::aarch64
