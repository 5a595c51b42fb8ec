// libFuzzer target of the device-tree parser (platform/aarch64/fdt.cc), seeded with QEMU's
// blobs (tests/data/dtb). Whatever the bytes, the parser must return an error or a BootInfo
// the kernel can boot on; it must never read outside the blob (AddressSanitizer: the blob is
// an exactly-sized heap copy), make a misaligned word access (UBSan's alignment check: the
// copy sits at an odd address; fdt.cc runs with the MMU off, where those fault), overflow or
// loop forever (libFuzzer's -timeout).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "platform/aarch64/fdt.h"

namespace {

using lichen::BootInfo;
using lichen::aarch64::BootStatus;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fdt_fuzz: parsed, but %s\n", what);
  std::abort();
}

// [base, base + size) shares a byte with [b, b + bsize); both given as non-wrapping.
bool Overlap(uint64_t base, uint64_t size, uint64_t b, uint64_t bsize) {
  return size != 0 && bsize != 0 && base < b + bsize && b < base + size;
}

// What the kernel relies on after a successful parse (start.cc, mmu.cc, gic.cc), checked here
// independently of the parser's own CheckBootInfo (which must agree).
void CheckAccepted(const BootInfo& info) {
  if (!lichen::fdt::CheckBootInfo(info).ok()) Fail("CheckBootInfo refuses the result");
  if (info.gicr_region_count > BootInfo::kMaxRedistributorRegions) Fail("too many GICR regions");
  struct Frame {
    uint64_t base, size;
  } frames[2 + BootInfo::kMaxRedistributorRegions];
  uint32_t n = 0;
  frames[n++] = {info.gicd_base, 0x10000};
  frames[n++] = {info.uart_base, 0x1000};
  for (uint32_t i = 0; i < info.gicr_region_count; ++i)
    frames[n++] = {info.gicr_regions[i].base, info.gicr_regions[i].size};
  for (uint32_t i = 0; i < n; ++i) {
    if (frames[i].size == 0 || frames[i].base + frames[i].size <= frames[i].base)
      Fail("a device frame is empty or wraps");
    for (uint32_t j = 0; j < i; ++j) {
      if (Overlap(frames[i].base, frames[i].size, frames[j].base, frames[j].size))
        Fail("two device frames overlap");
    }
    for (uint32_t m = 0; m < info.mem_count && m < BootInfo::kMaxMemRanges; ++m) {
      if (Overlap(frames[i].base, frames[i].size, info.mem[m].base, info.mem[m].size))
        Fail("a device frame overlaps RAM");
    }
  }
  if (info.cpu_count < 1 || info.cpu_count > BootInfo::kMaxCpus) Fail("CPU count out of range");
  if (info.dt_cpu_count < info.cpu_count) Fail("fewer device-tree CPUs than kept");
  for (uint32_t i = 0; i < info.cpu_count; ++i) {
    if ((info.cpu_mpidr[i] & ~uint64_t{0xff00ffffff}) != 0) Fail("an MPIDR with non-affinity bits");
    for (uint32_t j = 0; j < i; ++j) {
      if (info.cpu_mpidr[i] == info.cpu_mpidr[j]) Fail("two CPUs with one MPIDR");
    }
  }
  if (info.mem_count < 1 || info.mem_count > BootInfo::kMaxMemRanges) Fail("no RAM");
  for (uint32_t i = 0; i < info.mem_count; ++i) {
    if (info.mem[i].size == 0 || info.mem[i].end() <= info.mem[i].base) Fail("bad RAM range");
    for (uint32_t j = 0; j < i; ++j) {
      if (Overlap(info.mem[i].base, info.mem[i].size, info.mem[j].base, info.mem[j].size))
        Fail("two RAM ranges overlap");
    }
  }
  if (info.reserved_count > BootInfo::kMaxReserved) Fail("too many reservations");
  if (info.gicd_base == 0 || info.uart_base == 0) Fail("no GICD or no UART");
  if (info.gicr_region_count < 1 || info.gicr_region_count > BootInfo::kMaxRedistributorRegions)
    Fail("GICR region count out of range");
  if (info.timer_intid_virt < 16 || info.timer_intid_virt >= 32) Fail("timer INTID not a PPI");
  if (std::memchr(info.cmdline, 0, BootInfo::kCmdlineMax) == nullptr)
    Fail("command line not NUL-terminated");
}

void ParseOne(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> storage(new uint8_t[size + 1]);
  uint8_t* copy = storage.get() + 1;
  if (size != 0) std::memcpy(copy, data, size);
  lichen::fdt::Blob blob;
  BootStatus s = lichen::fdt::Blob::Open(copy, size, blob);
  BootInfo info;
  if (s.ok()) s = lichen::fdt::ParseBootInfo(blob, info);
  if (s.ok()) {
    CheckAccepted(info);
  } else if (s.message() == nullptr || s.message()[0] == '\0') {
    Fail("an error without a message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ParseOne(data, size);
  // Mutations that insert or erase bytes leave totalsize stale, and Open() refuses the input
  // at once: also parse it with totalsize set to its real size, to reach the walk.
  if (size >= 40 && size <= lichen::fdt::kMaxBlobSize) {
    std::unique_ptr<uint8_t[]> fixed(new uint8_t[size]);
    std::memcpy(fixed.get(), data, size);
    for (int i = 0; i < 4; ++i)
      fixed[4 + i] = static_cast<uint8_t>(size >> (24 - 8 * i));
    ParseOne(fixed.get(), size);
  }
  return 0;
}
