// Host tests of the device-tree parser (platform/aarch64/fdt.cc): QEMU's real blobs
// (tests/data/dtb, made by its `regenerate` script) must yield exactly what QEMU put in them,
// and malformed or nonsensical trees must be refused with the right error, never read outside
// the blob (every parse below runs on an exactly-sized heap copy under AddressSanitizer, at an
// odd address so that UBSan's alignment check sees any word-sized load).
#include "platform/aarch64/fdt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "tests/platform/fdt_builder.h"

namespace lichen {
namespace {

using aarch64::BootStatus;
using test::FdtBuilder;
using test::MachineSpec;
using test::MachineTree;

std::vector<uint8_t> ReadDtb(const std::string& name) {
  const std::string path = std::string(LICHEN_DTB_DIR) + "/" + name + ".dtb";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Parses `bytes` from an exactly-sized allocation at an odd address: any read past the end is
// an ASan report, any misaligned multi-byte load a UBSan one.
BootStatus Parse(const std::vector<uint8_t>& bytes, BootInfo& info, size_t max_size = SIZE_MAX) {
  auto storage = std::make_unique<uint8_t[]>(bytes.size() + 1);
  uint8_t* copy = storage.get() + 1;
  std::copy(bytes.begin(), bytes.end(), copy);
  fdt::Blob blob;
  BootStatus s = fdt::Blob::Open(copy, std::min(max_size, bytes.size()), blob);
  if (!s.ok()) return s;
  EXPECT_EQ(blob.total_size(), bytes.size());
  s = fdt::ParseBootInfo(blob, info);
  // Nothing in BootInfo may point into the blob, which is gone after this.
  return s;
}

BootStatus Parse(const std::vector<uint8_t>& bytes) {
  BootInfo info;
  return Parse(bytes, info);
}

std::string Message(const BootStatus& s) {
  return s.message();
}

// QEMU virt (hw/arm/virt.c, gic-version=3): MPIDR of CPU i has Aff0 = i % 16, Aff1 = i / 16
// (16 CPUs per cluster, the GICv3 target-list width).
uint64_t QemuMpidr(uint32_t i) {
  return (uint64_t{i / 16} << 8) | (i % 16);
}

struct QemuBlob {
  const char* name;
  uint32_t cpus;
  uint64_t ram_bytes;
  PsciConduit psci;
  const char* bootargs;
  MemRange initrd;
};

class QemuBlobTest : public testing::TestWithParam<QemuBlob> {};

TEST_P(QemuBlobTest, ParsesWhatQemuPutInIt) {
  const QemuBlob& want = GetParam();
  const std::vector<uint8_t> bytes = ReadDtb(want.name);
  ASSERT_FALSE(bytes.empty());
  BootInfo info;
  const BootStatus s = Parse(bytes, info);
  ASSERT_TRUE(s.ok()) << s.message() << " detail " << s.detail();

  EXPECT_EQ(info.dt_cpu_count, want.cpus);
  EXPECT_EQ(info.cpu_count, std::min(want.cpus, BootInfo::kMaxCpus));
  for (uint32_t i = 0; i < info.cpu_count; ++i)
    EXPECT_EQ(info.cpu_mpidr[i], QemuMpidr(i)) << "cpu " << i;

  ASSERT_EQ(info.mem_count, 1u);
  EXPECT_EQ(info.mem[0].base, 0x40000000u);
  EXPECT_EQ(info.mem[0].size, want.ram_bytes);
  EXPECT_EQ(info.reserved_count, 0u);

  EXPECT_EQ(info.gicd_base, 0x08000000u);
  ASSERT_EQ(info.gicr_region_count, 1u);
  EXPECT_EQ(info.gicr_regions[0].base, 0x080a0000u);
  EXPECT_EQ(info.gicr_regions[0].size, 0xf60000u);
  EXPECT_EQ(info.gicr_stride, 0u);
  EXPECT_EQ(info.uart_base, 0x09000000u);

  // <1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>: PPIs 13, 14, 11, 10 are INTIDs 29, 30, 27, 26.
  EXPECT_EQ(info.timer_intid_secure_phys, 29u);
  EXPECT_EQ(info.timer_intid_phys, 30u);
  EXPECT_EQ(info.timer_intid_virt, 27u);
  EXPECT_EQ(info.timer_intid_hyp, 26u);

  EXPECT_EQ(info.psci_conduit, want.psci);
  EXPECT_STREQ(info.cmdline, want.bootargs);
  EXPECT_FALSE(info.cmdline_truncated);
  EXPECT_EQ(info.initrd.base, want.initrd.base);
  EXPECT_EQ(info.initrd.size, want.initrd.size);
}

constexpr uint64_t kMiB = 1 << 20;
// The regenerate script's initrd: "lichen test initrd\n", 19 bytes, which QEMU loads 128 MiB
// into RAM.
constexpr MemRange kInitrd{0x48000000, 19};

INSTANTIATE_TEST_SUITE_P(
    Qemu, QemuBlobTest,
    testing::Values(QemuBlob{"virt-smp1-a72-128m", 1, 128 * kMiB, PsciConduit::kHvc, "", {}},
                    QemuBlob{"virt-smp2-a72-256m", 2, 256 * kMiB, PsciConduit::kHvc, "", {}},
                    QemuBlob{"virt-smp4-a72-256m", 4, 256 * kMiB, PsciConduit::kHvc, "", {}},
                    QemuBlob{"virt-smp4-max-2g-el2", 4, 2048 * kMiB, PsciConduit::kSmc, "", {}},
                    QemuBlob{"virt-smp8-a72-256m-el2", 8, 256 * kMiB, PsciConduit::kSmc, "", {}},
                    QemuBlob{"virt-smp16-max-128m", 16, 128 * kMiB, PsciConduit::kHvc, "", {}},
                    QemuBlob{"virt-smp64-a72-2g", 64, 2048 * kMiB, PsciConduit::kHvc, "", {}},
                    QemuBlob{"virt-smp2-a72-256m-bootargs-initrd", 2, 256 * kMiB, PsciConduit::kHvc,
                             "maxcpus=1 ktests placement=least-loaded", kInitrd}),
    [](const testing::TestParamInfo<QemuBlob>& p) {
      std::string n = p.param.name;
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

// Every prefix of a real blob, announced with its real totalsize: Open must refuse it (the
// blob is longer than the memory it may read).
TEST(FdtTruncated, EveryPrefixIsRefusedByOpen) {
  const std::vector<uint8_t> bytes = ReadDtb("virt-smp4-a72-256m");
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
    BootInfo info;
    EXPECT_FALSE(Parse(prefix, info).ok()) << n;
  }
}

uint32_t Be32At(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         b[at + 3];
}

// Every prefix that cuts into the structure or strings block, with totalsize rewritten to its
// length (and the block sizes left as they were): the header checks or the walk must refuse
// it, without reading past the end.
TEST(FdtTruncated, EveryPrefixWithMatchingTotalsizeIsRefused) {
  const std::vector<uint8_t> bytes = ReadDtb("virt-smp4-a72-256m");
  const size_t used = std::max(Be32At(bytes, 8) + Be32At(bytes, 36),    // structure block end
                               Be32At(bytes, 12) + Be32At(bytes, 32));  // strings block end
  ASSERT_LE(used, bytes.size());
  for (size_t n = 40; n < used; ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
    for (int i = 0; i < 4; ++i)
      prefix[4 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
    EXPECT_FALSE(Parse(prefix).ok()) << n;
  }
}

// Each byte of a real blob replaced by a few values: the parse either fails or yields a
// machine that CheckBootInfo accepts; never a read outside the blob.
TEST(FdtCorrupted, EverySingleByteChange) {
  const std::vector<uint8_t> bytes = ReadDtb("virt-smp4-a72-256m");
  uint32_t accepted = 0, refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t v : {uint8_t{0}, uint8_t{0xff}, static_cast<uint8_t>(bytes[i] ^ 0x80),
                      static_cast<uint8_t>(bytes[i] + 1)}) {
      if (v == bytes[i]) continue;
      std::vector<uint8_t> copy = bytes;
      copy[i] = v;
      BootInfo info;
      if (Parse(copy, info).ok()) {
        ++accepted;
        EXPECT_TRUE(fdt::CheckBootInfo(info).ok()) << i;
        EXPECT_GE(info.cpu_count, 1u);
        EXPECT_LE(info.cpu_count, BootInfo::kMaxCpus);
      } else {
        ++refused;
      }
    }
  }
  // Most bytes are property values the kernel ignores; the rest must be caught.
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(refused, 0u);
}

// --- The header -------------------------------------------------------------------------------

std::vector<uint8_t> Valid() {
  return MachineTree(MachineSpec{});
}

void SetBe32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

TEST(FdtHeader, TheBuiltMachineParses) {
  BootInfo info;
  const BootStatus s = Parse(Valid(), info);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(info.cpu_count, 4u);
  EXPECT_EQ(info.cpu_mpidr[3], 3u);
  EXPECT_EQ(info.uart_base, 0x09000000u);
}

TEST(FdtHeader, Refusals) {
  struct Case {
    size_t offset;
    uint32_t value;
    const char* message;
  };
  const Case cases[] = {
      {0, 0xd00dfeee, "device tree: bad magic (not an FDT blob)"},
      {4, 39, "device tree: implausible totalsize"},
      {4, 0xffffffff, "device tree: implausible totalsize"},
      {20, 15, "device tree: unsupported version"},
      {24, 18, "device tree: unsupported version"},
      {8, 0xfffffff0, "device tree: structure block outside the blob"},
      {8, 12, "device tree: structure block outside the blob"},
      {8, 58, "device tree: structure block outside the blob"},  // misaligned
      {36, 0xfffffff0, "device tree: structure block outside the blob"},
      {12, 0xfffffff0, "device tree: strings block outside the blob"},
      {32, 0xfffffff0, "device tree: strings block outside the blob"},
      {16, 44, "device tree: memory reservation map outside the blob"},  // misaligned
      {16, 0xfffffff8, "device tree: memory reservation map outside the blob"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> b = Valid();
    SetBe32(b, c.offset, c.value);
    EXPECT_EQ(Message(Parse(b)), c.message) << "offset " << c.offset << " value " << c.value;
  }
  std::vector<uint8_t> small(39, 0);
  EXPECT_EQ(Message(Parse(small)), "device tree: blob smaller than its header");
}

TEST(FdtHeader, ReservationMapMustEndInsideTheBlob) {
  FdtBuilder b;
  b.BeginNode("");
  b.EndNode();
  std::vector<uint8_t> bytes = b.Finish();
  // Point the map at the last 8 bytes: its (0, 0) terminator cannot fit.
  SetBe32(bytes, 16, static_cast<uint32_t>(bytes.size() - 8) & ~7u);
  EXPECT_EQ(Message(Parse(bytes)), "device tree: unterminated memory reservation map");
}

TEST(FdtHeader, WrappingReservationIsRefused) {
  // Regression: a /memreserve/ entry whose end wraps past 2^64 was taken as is and then
  // ignored by the free-range clipping (its end compares below everything).
  FdtBuilder b;
  b.Reserve(0x4ff00000, ~uint64_t{0});
  b.BeginNode("");
  b.EndNode();
  EXPECT_EQ(Message(Parse(b.Finish())), "device tree: memory reservation wraps around");
}

TEST(FdtHeader, ReservationsAreRead) {
  FdtBuilder b;
  b.Reserve(0x48000000, 0x1000);
  b.Reserve(0x4f000000, 0x2000);
  b.BeginNode("");
  b.EndNode();
  BootInfo info;
  EXPECT_EQ(Message(Parse(b.Finish(), info)), "device tree: no /memory node with RAM");
  ASSERT_EQ(info.reserved_count, 2u);
  EXPECT_EQ(info.reserved[1].base, 0x4f000000u);
  EXPECT_EQ(info.reserved[1].size, 0x2000u);
}

// --- The structure block ----------------------------------------------------------------------

TEST(FdtStructure, Refusals) {
  {
    FdtBuilder b;
    b.BeginNode("");
    b.Token(3);  // FDT_PROP with its header cut off by FDT_END
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: truncated property header");
  }
  {
    FdtBuilder b;
    b.BeginNode("");
    b.Prop("x", std::vector<uint8_t>(8, 0));
    b.EndNode();
    std::vector<uint8_t> bytes = b.Finish();
    // The value's length (first word after the FDT_PROP token) made huge.
    const uint32_t off_struct = 40 + 16;
    SetBe32(bytes, off_struct + 8 + 4, 0xfffffff0);
    EXPECT_EQ(Message(Parse(bytes)), "device tree: property value runs past the structure block");
    SetBe32(bytes, off_struct + 8 + 4, 8);
    SetBe32(bytes, off_struct + 8 + 8, 0x10000);  // nameoff beyond the strings block
    EXPECT_EQ(Message(Parse(bytes)), "device tree: property name offset outside the strings block");
  }
  {
    FdtBuilder b;
    b.EndNode();
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: FDT_END_NODE without a node");
  }
  {
    FdtBuilder b;
    b.Prop("x", {});
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: property outside any node");
  }
  {
    FdtBuilder b;
    b.BeginNode("");
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: FDT_END inside an open node");
  }
  {
    FdtBuilder b;
    b.BeginNode("");
    b.EndNode();
    b.BeginNode("");
    b.EndNode();
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: second root node");
  }
  {
    FdtBuilder b;
    b.Token(7);
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: unknown structure token");
  }
  {
    FdtBuilder b;
    b.Nop();
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: no root node");
  }
  {
    FdtBuilder b;
    for (uint32_t i = 0; i <= fdt::kMaxDepth; ++i)
      b.BeginNode("n");
    EXPECT_EQ(Message(Parse(b.Finish())), "device tree: nodes nested too deeply");
  }
}

TEST(FdtStructure, UnterminatedStringsAreRefused) {
  {
    // A node name that runs to the end of the structure block (which is cut to end before
    // FDT_END, on the name's last byte).
    FdtBuilder b;
    b.BeginNode("");
    b.Token(1);
    b.raw_struct().insert(b.raw_struct().end(), {'a', 'b', 'c', 'd'});
    std::vector<uint8_t> bytes = b.Finish();
    SetBe32(bytes, 36, Be32At(bytes, 36) - 4);
    EXPECT_EQ(Message(Parse(bytes)), "device tree: unterminated node name");
  }
  {
    FdtBuilder b;
    b.BeginNode("");
    b.Prop("name", {});
    b.EndNode();
    std::vector<uint8_t> bytes = b.Finish();
    bytes.back() = 'x';  // the strings block's only string loses its NUL
    EXPECT_EQ(Message(Parse(bytes)), "device tree: unterminated property name");
  }
}

TEST(FdtStructure, NopsAndVersion16AreAccepted) {
  FdtBuilder b;
  b.Nop();
  b.BeginNode("");
  b.Nop();
  b.EndNode();
  std::vector<uint8_t> bytes = b.Finish();
  SetBe32(bytes, 20, 16);  // version 16: no size_dt_struct, the block runs to the end
  SetBe32(bytes, 36, 0);
  // Structurally fine; it just describes no machine.
  EXPECT_EQ(Message(Parse(bytes)), "device tree: no /memory node with RAM");
}

// --- What the tree says -----------------------------------------------------------------------

BootStatus ParseSpec(const MachineSpec& m, BootInfo& info) {
  return Parse(MachineTree(m), info);
}
BootStatus ParseSpec(const MachineSpec& m) {
  BootInfo info;
  return ParseSpec(m, info);
}

TEST(FdtMachine, CpuCountBeyondTheMaximumKeepsTheFirst) {
  MachineSpec m;
  m.cpu_ids.clear();
  for (uint32_t i = 0; i < BootInfo::kMaxCpus + 3; ++i)
    m.cpu_ids.push_back(static_cast<uint32_t>(QemuMpidr(i)));
  BootInfo info;
  ASSERT_TRUE(ParseSpec(m, info).ok());
  EXPECT_EQ(info.dt_cpu_count, BootInfo::kMaxCpus + 3);
  EXPECT_EQ(info.cpu_count, BootInfo::kMaxCpus);
  EXPECT_EQ(info.cpu_mpidr[BootInfo::kMaxCpus - 1], QemuMpidr(BootInfo::kMaxCpus - 1));
}

TEST(FdtMachine, NoCpus) {
  MachineSpec m;
  m.cpu_ids.clear();
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: no CPU under /cpus");
}

TEST(FdtMachine, CpuIdThatIsNoMpidr) {
  MachineSpec m;
  m.cpu_ids = {0, 0x1000000};  // bit 24: not an affinity field of MPIDR
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: cpu reg is not an MPIDR affinity value");
}

TEST(FdtMachine, DuplicateMpidrIsRefused) {
  // Regression: two cpu nodes with one MPIDR were both taken, and the boot CPU would have
  // asked PSCI to start the same CPU twice.
  MachineSpec m;
  m.cpu_ids = {0, 1, 1};
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: two CPUs with the same MPIDR");
}

TEST(FdtMachine, ZeroMemory) {
  MachineSpec m;
  m.memory = {{0x40000000, 0}};
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: no /memory node with RAM");
  m.memory.clear();
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: no /memory node with RAM");
}

TEST(FdtMachine, MemoryThatWrapsOrOverlaps) {
  MachineSpec m;
  m.memory = {{0x40000000, ~uint64_t{0}}};
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: memory range wraps");
  m.memory = {{0xffffffff00000000, 0x100000000}};  // ends exactly at 2^64
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: memory range wraps");
  // Regression: overlapping RAM ranges were both given to the MMU and the free range.
  m.memory = {{0x40000000, 0x10000000}, {0x48000000, 0x10000000}};
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: two memory ranges overlap");
}

TEST(FdtMachine, DeviceRegionsMustNotOverlapRamOrEachOther) {
  // Regressions: each of these parsed, and the kernel then mapped RAM as Device memory (or
  // failed much later, in the page tables, with a message that named no device).
  MachineSpec m;
  m.gicd_base = 0x4ff00000;  // inside RAM
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: a GIC or UART region overlaps RAM");
  m = MachineSpec{};
  m.uart_base = 0x40001000;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: a GIC or UART region overlaps RAM");
  m = MachineSpec{};
  m.gicr_base = 0x3fff0000;  // runs into RAM at 0x40000000
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: a GIC or UART region overlaps RAM");
  m = MachineSpec{};
  m.uart_base = 0x08000000;  // on the distributor
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: two GIC/UART regions overlap");
  m = MachineSpec{};
  m.gicr_base = 0x08000000;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: two GIC/UART regions overlap");
}

TEST(FdtMachine, RedistributorRegionThatWrapsIsRefused) {
  // Regression: the MMU's Map() saw an end below the start and mapped nothing, and the first
  // redistributor access faulted.
  MachineSpec m;
  m.gicr_base = 0xffffffffffff0000;
  m.gicr_size = 0x20000;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: a device region wraps around the address space");
  m.gicr_base = 0x080a0000;
  m.gicr_size = ~uint64_t{0} - 0x80000;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: a device region wraps around the address space");
}

TEST(FdtMachine, GicFramesMustBeAligned64KiBFrames) {
  MachineSpec m;
  m.gicd_base = 0x08001000;
  EXPECT_EQ(Message(ParseSpec(m)),
            "device tree: GICv3 distributor not a 64 KiB aligned 64 KiB frame");
  m = MachineSpec{};
  m.gicd_size = 0x1000;
  EXPECT_EQ(Message(ParseSpec(m)),
            "device tree: GICv3 distributor not a 64 KiB aligned 64 KiB frame");
  m = MachineSpec{};
  m.gicr_base = 0x080a8000;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: GICv3 redistributor region not 64 KiB aligned");
  m = MachineSpec{};
  m.gicr_size = 0;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: empty GICv3 redistributor region");
  m = MachineSpec{};
  m.gicd_base = 0;
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: GICv3 distributor at address 0");
}

TEST(FdtMachine, PsciMethod) {
  MachineSpec m;
  m.psci_method = "smc";
  BootInfo info;
  ASSERT_TRUE(ParseSpec(m, info).ok());
  EXPECT_EQ(info.psci_conduit, PsciConduit::kSmc);
  m.psci_method = "svc";
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: PSCI method is neither hvc nor smc");
}

TEST(FdtMachine, BootargsAreCopiedAndTruncated) {
  MachineSpec m;
  m.bootargs = "ktests seed=7";
  BootInfo info;
  ASSERT_TRUE(ParseSpec(m, info).ok());
  EXPECT_STREQ(info.cmdline, "ktests seed=7");
  EXPECT_FALSE(info.cmdline_truncated);
  m.bootargs = std::string(BootInfo::kCmdlineMax + 10, 'x');
  info = BootInfo{};
  const BootStatus s = ParseSpec(m, info);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(std::strlen(info.cmdline), BootInfo::kCmdlineMax - 1);
  EXPECT_TRUE(info.cmdline_truncated);
}

TEST(FdtMachine, Initrd) {
  MachineSpec m;
  m.initrd_start = {0, 0x48000000};  // two cells
  m.initrd_end = {0x48100000};       // one cell
  BootInfo info;
  ASSERT_TRUE(ParseSpec(m, info).ok());
  EXPECT_EQ(info.initrd.base, 0x48000000u);
  EXPECT_EQ(info.initrd.size, 0x100000u);

  m.initrd_end = {0x47000000};
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: /chosen initrd ends before it starts");
  m.initrd_end = {0, 0, 0};
  EXPECT_EQ(Message(ParseSpec(m)),
            "device tree: /chosen initrd start/end not a 1- or 2-cell number");
  m.initrd_end.clear();
  EXPECT_EQ(Message(ParseSpec(m)),
            "device tree: /chosen initrd start/end not a 1- or 2-cell number");
  m.initrd_start = {0x60000000};
  m.initrd_end = {0x60001000};
  EXPECT_EQ(Message(ParseSpec(m)), "device tree: the initrd is not inside RAM");
}

TEST(FdtCheckBootInfo, RefusesCountsBeyondItsArrays) {
  BootInfo info;
  info.mem_count = BootInfo::kMaxMemRanges + 1;
  EXPECT_EQ(Message(fdt::CheckBootInfo(info)), "boot info: range count beyond its array");
}

}  // namespace
}  // namespace lichen
