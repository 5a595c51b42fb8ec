#include "platform/aarch64/fdt.h"

namespace lichen::fdt {

namespace {

// Structure-block tokens (devicetree spec 5.4.1).
constexpr uint32_t kTokenBeginNode = 1;
constexpr uint32_t kTokenEndNode = 2;
constexpr uint32_t kTokenProp = 3;
constexpr uint32_t kTokenNop = 4;
constexpr uint32_t kTokenEnd = 9;

// Header field offsets (spec 5.2).
constexpr uint32_t kHeaderSize = 40;
constexpr uint32_t kOffTotalSize = 4;
constexpr uint32_t kOffStruct = 8;
constexpr uint32_t kOffStrings = 12;
constexpr uint32_t kOffReserveMap = 16;
constexpr uint32_t kOffVersion = 20;
constexpr uint32_t kOffLastCompVersion = 24;
constexpr uint32_t kOffStringsSize = 32;
constexpr uint32_t kOffStructSize = 36;

constexpr uint32_t AlignUp4(uint32_t v) {
  return (v + 3u) & ~3u;
}

// A property value: `len` bytes at `data` (inside the structure block), or absent.
struct Prop {
  const uint8_t* data = nullptr;
  uint32_t len = 0;
  bool present() const { return data != nullptr; }
};

// True if `p` is a NUL-terminated string equal to `s` (ignoring the terminator).
bool PropIsString(const Prop& p, std::string_view s) {
  if (!p.present() || p.len != s.size() + 1 || p.data[s.size()] != 0) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (p.data[i] != static_cast<uint8_t>(s[i])) return false;
  }
  return true;
}

// True if the string list `p` (compatible, ...) contains `s`.
bool PropListContains(const Prop& p, std::string_view s) {
  uint32_t start = 0;
  while (start < p.len) {
    uint32_t end = start;
    while (end < p.len && p.data[end] != 0)
      ++end;
    if (end == p.len) return false;  // unterminated last entry: malformed, never matches
    if (end - start == s.size()) {
      bool equal = true;
      for (size_t i = 0; i < s.size(); ++i) {
        if (p.data[start + i] != static_cast<uint8_t>(s[i])) {
          equal = false;
          break;
        }
      }
      if (equal) return true;
    }
    start = end + 1;
  }
  return false;
}

// Reads a `cells`-cell big-endian number (1 or 2 cells) at cell index `index` of `p`.
uint64_t ReadCells(const Prop& p, uint32_t index, uint32_t cells) {
  const uint8_t* q = p.data + index * 4;
  return cells == 2 ? LoadBe64(q) : LoadBe32(q);
}

// Per-node state while the node is open: the properties the boot code needs (all are
// collected before any child node starts, as the spec requires properties to come first).
struct Node {
  std::string_view name;       // unit name including "@address"
  uint32_t address_cells = 2;  // #address-cells for this node's children (spec default 2)
  uint32_t size_cells = 1;     // #size-cells for this node's children (spec default 1)
  Prop compatible, reg, device_type, status, interrupts, method, bootargs, stdout_path,
      redistributor_regions, redistributor_stride, initrd_start, initrd_end;
};

// True if [a.base, a.end()) and [b.base, b.end()) share a byte (both non-empty, no wrap).
bool Overlap(const MemRange& a, const MemRange& b) {
  return a.size != 0 && b.size != 0 && a.base < b.end() && b.base < a.end();
}

// True if the range's end does not wrap around the address space (an end of exactly 2^64 is
// unrepresentable in MemRange::end() and counts as wrapping).
bool Fits(const MemRange& r) {
  return r.base + r.size >= r.base && (r.size == 0 || r.base + r.size != 0);
}

// Strips "@unit-address" from a node name.
std::string_view BaseName(std::string_view name) {
  const size_t at = name.find('@');
  return at == std::string_view::npos ? name : name.substr(0, at);
}

}  // namespace

uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t LoadBe64(const uint8_t* p) {
  return (uint64_t{LoadBe32(p)} << 32) | LoadBe32(p + 4);
}

bool HasMagic(const void* blob) {
  return blob != nullptr && LoadBe32(static_cast<const uint8_t*>(blob)) == kMagic;
}

BootStatus Blob::Open(const void* data, size_t max_size, Blob& out) {
  if (data == nullptr) return BootStatus::Error("no device tree blob");
  if (max_size < kHeaderSize) return BootStatus::Error("device tree: blob smaller than its header");
  const uint8_t* b = static_cast<const uint8_t*>(data);
  if (LoadBe32(b) != kMagic) {
    return BootStatus::Error("device tree: bad magic (not an FDT blob)", LoadBe32(b));
  }
  const uint32_t total = LoadBe32(b + kOffTotalSize);
  if (total < kHeaderSize || total > kMaxBlobSize || total > max_size) {
    return BootStatus::Error("device tree: implausible totalsize", total);
  }
  const uint32_t version = LoadBe32(b + kOffVersion);
  const uint32_t last_comp = LoadBe32(b + kOffLastCompVersion);
  if (version < 16 || last_comp > 17) {
    return BootStatus::Error("device tree: unsupported version", version);
  }
  const uint32_t off_struct = LoadBe32(b + kOffStruct);
  const uint32_t off_strings = LoadBe32(b + kOffStrings);
  const uint32_t off_rsv = LoadBe32(b + kOffReserveMap);
  const uint32_t strings_size = LoadBe32(b + kOffStringsSize);
  // Version 16 has no size_dt_struct: the block may extend to the end of the blob.
  const uint32_t struct_size =
      version >= 17 ? LoadBe32(b + kOffStructSize) : (off_struct <= total ? total - off_struct : 0);
  // Every block must start after the header and end inside the blob (checked without
  // overflow: off <= total, then size <= total - off).
  if (off_struct < kHeaderSize || off_struct > total || struct_size > total - off_struct ||
      (off_struct & 3) != 0) {
    return BootStatus::Error("device tree: structure block outside the blob", off_struct);
  }
  if (off_strings < kHeaderSize || off_strings > total || strings_size > total - off_strings) {
    return BootStatus::Error("device tree: strings block outside the blob", off_strings);
  }
  if (off_rsv < kHeaderSize || off_rsv > total || (off_rsv & 7) != 0) {
    return BootStatus::Error("device tree: memory reservation map outside the blob", off_rsv);
  }
  out.base_ = b;
  out.total_size_ = total;
  out.struct_offset_ = off_struct;
  out.struct_size_ = struct_size;
  out.strings_offset_ = off_strings;
  out.strings_size_ = strings_size;
  out.reserve_map_offset_ = off_rsv;
  return BootStatus::Ok();
}

// The single pass over the structure block that fills BootInfo.
class Parser {
 public:
  Parser(const Blob& blob, BootInfo& info) : blob_(blob), info_(info) {}

  BootStatus Run() {
    LICHEN_TRY_BOOT(ReadReserveMap());
    LICHEN_TRY_BOOT(Walk());
    return CheckRequired();
  }

 private:
  const uint8_t* Struct() const { return blob_.base_ + blob_.struct_offset_; }

  // /memreserve/ entries: (address, size) pairs of big-endian u64, ended by (0, 0).
  BootStatus ReadReserveMap() {
    uint32_t off = blob_.reserve_map_offset_;
    for (;;) {
      if (off > blob_.total_size_ || blob_.total_size_ - off < 16) {
        return BootStatus::Error("device tree: unterminated memory reservation map", off);
      }
      const uint64_t base = LoadBe64(blob_.base_ + off);
      const uint64_t size = LoadBe64(blob_.base_ + off + 8);
      if (base == 0 && size == 0) return BootStatus::Ok();
      if (!Fits(MemRange{base, size})) {
        return BootStatus::Error("device tree: memory reservation wraps around", base);
      }
      if (info_.reserved_count < BootInfo::kMaxReserved) {
        info_.reserved[info_.reserved_count++] = MemRange{base, size};
      }
      off += 16;
    }
  }

  // Reads the token at `off` (which must be inside the structure block).
  BootStatus Token(uint32_t off, uint32_t& token) const {
    if (off > blob_.struct_size_ || blob_.struct_size_ - off < 4) {
      return BootStatus::Error("device tree: structure block ends without FDT_END", off);
    }
    token = LoadBe32(Struct() + off);
    return BootStatus::Ok();
  }

  // The NUL-terminated string at `off` of the structure block (a node name).
  BootStatus NodeName(uint32_t off, std::string_view& name) const {
    const uint8_t* s = Struct();
    uint32_t end = off;
    while (end < blob_.struct_size_ && s[end] != 0)
      ++end;
    if (end >= blob_.struct_size_)
      return BootStatus::Error("device tree: unterminated node name", off);
    name = std::string_view(reinterpret_cast<const char*>(s + off), end - off);
    return BootStatus::Ok();
  }

  // The property name at `nameoff` of the strings block.
  BootStatus PropName(uint32_t nameoff, std::string_view& name) const {
    if (nameoff >= blob_.strings_size_) {
      return BootStatus::Error("device tree: property name offset outside the strings block",
                               nameoff);
    }
    const uint8_t* s = blob_.base_ + blob_.strings_offset_;
    uint32_t end = nameoff;
    while (end < blob_.strings_size_ && s[end] != 0)
      ++end;
    if (end >= blob_.strings_size_) {
      return BootStatus::Error("device tree: unterminated property name", nameoff);
    }
    name = std::string_view(reinterpret_cast<const char*>(s + nameoff), end - nameoff);
    return BootStatus::Ok();
  }

  BootStatus Walk() {
    uint32_t off = 0;
    uint32_t depth = 0;  // number of open nodes; nodes_[depth - 1] is the innermost
    for (;;) {
      uint32_t token = 0;
      LICHEN_TRY_BOOT(Token(off, token));
      const uint32_t token_off = off;
      off += 4;
      switch (token) {
        case kTokenBeginNode: {
          if (depth == kMaxDepth)
            return BootStatus::Error("device tree: nodes nested too deeply", token_off);
          if (depth == 0 && saw_root_)
            return BootStatus::Error("device tree: second root node", token_off);
          std::string_view name;
          LICHEN_TRY_BOOT(NodeName(off, name));
          off = AlignUp4(off + static_cast<uint32_t>(name.size()) + 1);
          nodes_[depth] = Node{};
          nodes_[depth].name = name;
          ++depth;
          saw_root_ = true;
          break;
        }
        case kTokenEndNode:
          if (depth == 0)
            return BootStatus::Error("device tree: FDT_END_NODE without a node", token_off);
          LICHEN_TRY_BOOT(FinishNode(depth));
          --depth;
          break;
        case kTokenProp: {
          if (depth == 0)
            return BootStatus::Error("device tree: property outside any node", token_off);
          if (blob_.struct_size_ - off < 8) {
            return BootStatus::Error("device tree: truncated property header", token_off);
          }
          const uint32_t len = LoadBe32(Struct() + off);
          const uint32_t nameoff = LoadBe32(Struct() + off + 4);
          off += 8;
          if (len > blob_.struct_size_ - off) {
            return BootStatus::Error("device tree: property value runs past the structure block",
                                     token_off);
          }
          std::string_view name;
          LICHEN_TRY_BOOT(PropName(nameoff, name));
          LICHEN_TRY_BOOT(AddProp(nodes_[depth - 1], name, Prop{Struct() + off, len}, token_off));
          off = AlignUp4(off + len);
          break;
        }
        case kTokenNop:
          break;
        case kTokenEnd:
          if (depth != 0)
            return BootStatus::Error("device tree: FDT_END inside an open node", token_off);
          if (!saw_root_) return BootStatus::Error("device tree: no root node");
          return BootStatus::Ok();
        default:
          return BootStatus::Error("device tree: unknown structure token", token_off);
      }
    }
  }

  // Records the properties the boot code uses; validates the cell counts.
  BootStatus AddProp(Node& node, std::string_view name, Prop value, uint32_t at) {
    if (name == "#address-cells" || name == "#size-cells") {
      if (value.len != 4) return BootStatus::Error("device tree: cell count is not one cell", at);
      // Any count is accepted here (PCI buses use 3); RegEntry() rejects what it cannot read.
      const uint32_t cells = LoadBe32(value.data);
      if (cells > 4)
        return BootStatus::Error("device tree: implausible address/size cell count", at);
      (name == "#address-cells" ? node.address_cells : node.size_cells) = cells;
    } else if (name == "compatible") {
      node.compatible = value;
    } else if (name == "reg") {
      node.reg = value;
    } else if (name == "device_type") {
      node.device_type = value;
    } else if (name == "status") {
      node.status = value;
    } else if (name == "interrupts") {
      node.interrupts = value;
    } else if (name == "method") {
      node.method = value;
    } else if (name == "bootargs") {
      node.bootargs = value;
    } else if (name == "stdout-path") {
      node.stdout_path = value;
    } else if (name == "#redistributor-regions") {
      node.redistributor_regions = value;
    } else if (name == "redistributor-stride") {
      node.redistributor_stride = value;
    } else if (name == "linux,initrd-start") {
      node.initrd_start = value;
    } else if (name == "linux,initrd-end") {
      node.initrd_end = value;
    }
    return BootStatus::Ok();
  }

  // Reads entry `index` of a `reg` property laid out with the parent's cell counts.
  static BootStatus RegEntry(const Node& node, const Node& parent, uint32_t index, MemRange& out) {
    const uint32_t ac = parent.address_cells;
    const uint32_t sc = parent.size_cells;
    const uint32_t entry_bytes = (ac + sc) * 4;
    if (ac == 0 || ac > 2 || sc > 2) {
      return BootStatus::Error("device tree: reg with an unsupported address/size cell count",
                               ac * 16 + sc);
    }
    if (node.reg.len % entry_bytes != 0 || index >= node.reg.len / entry_bytes) {
      return BootStatus::Error("device tree: reg property too short or misaligned", index);
    }
    out.base = ReadCells(node.reg, index * (ac + sc), ac);
    out.size = sc == 0 ? 0 : ReadCells(node.reg, index * (ac + sc) + ac, sc);
    return BootStatus::Ok();
  }

  static uint32_t RegCount(const Node& node, const Node& parent) {
    const uint32_t entry_bytes = (parent.address_cells + parent.size_cells) * 4;
    return entry_bytes == 0 ? 0 : node.reg.len / entry_bytes;
  }

  static bool Enabled(const Node& node) {
    return !node.status.present() || PropIsString(node.status, "okay") ||
           PropIsString(node.status, "ok");
  }

  // Called at FDT_END_NODE, when all of the node's properties are known.
  BootStatus FinishNode(uint32_t depth) {
    const Node& node = nodes_[depth - 1];
    if (depth == 1) return BootStatus::Ok();  // the root itself
    const Node& parent = nodes_[depth - 2];
    if (depth == 2 && node.name == "chosen") return Chosen(node);
    if (!Enabled(node)) return BootStatus::Ok();
    if (PropIsString(node.device_type, "memory")) return Memory(node, parent);
    if (depth == 3 && BaseName(parent.name) == "cpus" && PropIsString(node.device_type, "cpu")) {
      return Cpu(node, parent);
    }
    if (!node.compatible.present()) return BootStatus::Ok();
    if (PropListContains(node.compatible, "arm,gic-v3")) return Gic(node, parent);
    if (PropListContains(node.compatible, "arm,pl011")) return Uart(node, parent, depth);
    if (PropListContains(node.compatible, "arm,armv8-timer")) return Timer(node);
    if (PropListContains(node.compatible, "arm,psci-1.0") ||
        PropListContains(node.compatible, "arm,psci-0.2")) {
      return Psci(node);
    }
    return BootStatus::Ok();
  }

  BootStatus Chosen(const Node& node) {
    if (node.bootargs.present()) {
      const Prop& p = node.bootargs;
      if (p.len == 0 || p.data[p.len - 1] != 0) {
        return BootStatus::Error("device tree: /chosen/bootargs is not a string");
      }
      uint32_t n = p.len - 1;
      if (n > BootInfo::kCmdlineMax - 1) {
        n = BootInfo::kCmdlineMax - 1;
        info_.cmdline_truncated = true;
      }
      for (uint32_t i = 0; i < n; ++i)
        info_.cmdline[i] = static_cast<char>(p.data[i]);
      info_.cmdline[n] = '\0';
    }
    if (node.initrd_start.present() || node.initrd_end.present()) {
      // Either cell width is in use (Linux's chosen binding): one cell, or two.
      const Prop& s = node.initrd_start;
      const Prop& e = node.initrd_end;
      if ((s.len != 4 && s.len != 8) || (e.len != 4 && e.len != 8)) {
        return BootStatus::Error("device tree: /chosen initrd start/end not a 1- or 2-cell number");
      }
      const uint64_t start = s.len == 8 ? LoadBe64(s.data) : LoadBe32(s.data);
      const uint64_t end = e.len == 8 ? LoadBe64(e.data) : LoadBe32(e.data);
      if (end < start)
        return BootStatus::Error("device tree: /chosen initrd ends before it starts", end);
      info_.initrd = MemRange{start, end - start};
    }
    if (node.stdout_path.present()) {
      // "/pl011@9000000" or "/pl011@9000000:115200n8" or an alias (not resolved here).
      const Prop& p = node.stdout_path;
      if (p.len > 0 && p.data[p.len - 1] == 0) {
        std::string_view path(reinterpret_cast<const char*>(p.data), p.len - 1);
        stdout_path_ = path.substr(0, path.find(':'));
      }
    }
    return BootStatus::Ok();
  }

  BootStatus Memory(const Node& node, const Node& parent) {
    const uint32_t n = RegCount(node, parent);
    if (n == 0) return BootStatus::Error("device tree: memory node without reg");
    for (uint32_t i = 0; i < n; ++i) {
      MemRange r;
      LICHEN_TRY_BOOT(RegEntry(node, parent, i, r));
      if (r.size == 0) continue;
      if (!Fits(r)) return BootStatus::Error("device tree: memory range wraps", r.base);
      if (info_.mem_count == BootInfo::kMaxMemRanges) {
        return BootStatus::Error("device tree: too many memory ranges", BootInfo::kMaxMemRanges);
      }
      info_.mem[info_.mem_count++] = r;
    }
    return BootStatus::Ok();
  }

  BootStatus Cpu(const Node& node, const Node& parent) {
    // A CPU's reg is its MPIDR affinity value, #address-cells (1 or 2) wide, no size.
    const uint32_t ac = parent.address_cells;
    if (ac == 0 || ac > 2 || node.reg.len < ac * 4) {
      return BootStatus::Error("device tree: cpu node without a 1- or 2-cell reg");
    }
    const uint64_t mpidr = ReadCells(node.reg, 0, ac);
    if ((mpidr & ~uint64_t{0xff00ffffff}) != 0) {
      return BootStatus::Error("device tree: cpu reg is not an MPIDR affinity value", mpidr);
    }
    // Two nodes for one MPIDR would have the kernel start the same CPU twice.
    for (uint32_t i = 0; i < info_.cpu_count; ++i) {
      if (info_.cpu_mpidr[i] == mpidr) {
        return BootStatus::Error("device tree: two CPUs with the same MPIDR", mpidr);
      }
    }
    ++info_.dt_cpu_count;
    if (info_.cpu_count < BootInfo::kMaxCpus) info_.cpu_mpidr[info_.cpu_count++] = mpidr;
    return BootStatus::Ok();
  }

  BootStatus Gic(const Node& node, const Node& parent) {
    if (info_.gicd_base != 0) return BootStatus::Ok();  // the first GICv3 wins
    uint32_t regions = 1;
    if (node.redistributor_regions.present()) {
      if (node.redistributor_regions.len != 4) {
        return BootStatus::Error("device tree: bad #redistributor-regions");
      }
      regions = LoadBe32(node.redistributor_regions.data);
    }
    if (regions == 0 || regions > BootInfo::kMaxRedistributorRegions) {
      return BootStatus::Error("device tree: unsupported number of GICv3 redistributor regions",
                               regions);
    }
    if (RegCount(node, parent) < 1 + regions) {
      return BootStatus::Error("device tree: GICv3 reg lacks distributor or redistributor regions");
    }
    MemRange gicd;
    LICHEN_TRY_BOOT(RegEntry(node, parent, 0, gicd));
    for (uint32_t i = 0; i < regions; ++i) {
      MemRange& r = info_.gicr_regions[i];
      LICHEN_TRY_BOOT(RegEntry(node, parent, 1 + i, r));
      if (r.size == 0) return BootStatus::Error("device tree: empty GICv3 redistributor region", i);
      // Redistributor frames are 64 KiB each and 64 KiB aligned (GICv3 architecture 12.10).
      if (r.base % 0x10000 != 0) {
        return BootStatus::Error("device tree: GICv3 redistributor region not 64 KiB aligned",
                                 r.base);
      }
    }
    if (node.redistributor_stride.present()) {
      const Prop& s = node.redistributor_stride;
      if (s.len != 4 && s.len != 8)
        return BootStatus::Error("device tree: bad redistributor-stride");
      info_.gicr_stride = s.len == 8 ? LoadBe64(s.data) : LoadBe32(s.data);
      if (info_.gicr_stride % 0x10000 != 0) {
        return BootStatus::Error("device tree: redistributor-stride not a multiple of 64 KiB",
                                 info_.gicr_stride);
      }
    }
    if (gicd.base == 0) return BootStatus::Error("device tree: GICv3 distributor at address 0");
    if (gicd.base % kGicDistributorSize != 0 || gicd.size < kGicDistributorSize) {
      return BootStatus::Error("device tree: GICv3 distributor not a 64 KiB aligned 64 KiB frame",
                               gicd.base);
    }
    info_.gicd_base = gicd.base;
    info_.gicr_region_count = regions;
    return BootStatus::Ok();
  }

  BootStatus Uart(const Node& node, const Node& parent, uint32_t depth) {
    MemRange r;
    LICHEN_TRY_BOOT(RegEntry(node, parent, 0, r));
    // Prefer the UART /chosen/stdout-path names (only top-level nodes are compared by path;
    // /chosen usually comes after the devices in QEMU's tree, so also remember the first).
    bool is_stdout = false;
    if (depth == 2 && stdout_path_.size() > 1 && stdout_path_[0] == '/') {
      is_stdout = stdout_path_.substr(1) == node.name;
    }
    if (info_.uart_base == 0 || is_stdout) info_.uart_base = r.base;
    if (pl011_count_ < kMaxPl011) pl011_bases_[pl011_count_++] = Pl011{node.name, r.base};
    return BootStatus::Ok();
  }

  BootStatus Timer(const Node& node) {
    // Interrupt specifiers of the GIC: <type number flags>; type 1 = PPI, INTID = 16 + number.
    // Order (binding): secure physical, non-secure physical, virtual, hypervisor (optional).
    const Prop& p = node.interrupts;
    if (!p.present() || p.len % 12 != 0 || p.len / 12 < 3) {
      return BootStatus::Error("device tree: timer interrupts are not 3 or 4 GIC PPI specifiers");
    }
    uint32_t* slots[4] = {&info_.timer_intid_secure_phys, &info_.timer_intid_phys,
                          &info_.timer_intid_virt, &info_.timer_intid_hyp};
    const uint32_t n = p.len / 12 < 4 ? p.len / 12 : 4;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t type = LoadBe32(p.data + i * 12);
      const uint32_t number = LoadBe32(p.data + i * 12 + 4);
      if (type != 1 || number >= 16) {
        return BootStatus::Error("device tree: timer interrupt is not a PPI", i);
      }
      *slots[i] = 16 + number;
    }
    return BootStatus::Ok();
  }

  BootStatus Psci(const Node& node) {
    if (PropIsString(node.method, "hvc")) {
      info_.psci_conduit = PsciConduit::kHvc;
    } else if (PropIsString(node.method, "smc")) {
      info_.psci_conduit = PsciConduit::kSmc;
    } else {
      return BootStatus::Error("device tree: PSCI method is neither hvc nor smc");
    }
    return BootStatus::Ok();
  }

  BootStatus CheckRequired() {
    // stdout-path may have named a UART that came before /chosen: resolve it now.
    if (stdout_path_.size() > 1 && stdout_path_[0] == '/') {
      for (uint32_t i = 0; i < pl011_count_; ++i) {
        if (stdout_path_.substr(1) == pl011_bases_[i].name) info_.uart_base = pl011_bases_[i].base;
      }
    }
    if (info_.mem_count == 0) return BootStatus::Error("device tree: no /memory node with RAM");
    if (info_.cpu_count == 0) return BootStatus::Error("device tree: no CPU under /cpus");
    if (info_.gicd_base == 0)
      return BootStatus::Error("device tree: no arm,gic-v3 interrupt controller");
    if (info_.uart_base == 0) return BootStatus::Error("device tree: no arm,pl011 UART");
    if (info_.timer_intid_virt == 0)
      return BootStatus::Error("device tree: no arm,armv8-timer node");
    return CheckBootInfo(info_);
  }

  // A PL011 seen so far, kept to resolve /chosen/stdout-path after the walk.
  struct Pl011 {
    std::string_view name;
    uint64_t base;
  };
  static constexpr uint32_t kMaxPl011 = 4;

  const Blob& blob_;
  BootInfo& info_;
  Node nodes_[kMaxDepth];
  bool saw_root_ = false;
  std::string_view stdout_path_;
  Pl011 pl011_bases_[kMaxPl011] = {};
  uint32_t pl011_count_ = 0;
};

BootStatus CheckBootInfo(const BootInfo& info) {
  if (info.mem_count > BootInfo::kMaxMemRanges ||
      info.gicr_region_count > BootInfo::kMaxRedistributorRegions) {
    return BootStatus::Error("boot info: range count beyond its array");
  }
  for (uint32_t i = 0; i < info.mem_count; ++i) {
    for (uint32_t j = 0; j < i; ++j) {
      if (Overlap(info.mem[i], info.mem[j])) {
        return BootStatus::Error("device tree: two memory ranges overlap", info.mem[i].base);
      }
    }
  }
  // The device frames the kernel maps as Device memory and drives: the distributor, every
  // redistributor region, the console UART.
  constexpr uint32_t kMaxDevices = 2 + BootInfo::kMaxRedistributorRegions;
  MemRange devices[kMaxDevices];
  uint32_t n = 0;
  devices[n++] = MemRange{info.gicd_base, kGicDistributorSize};
  for (uint32_t i = 0; i < info.gicr_region_count; ++i)
    devices[n++] = info.gicr_regions[i];
  devices[n++] = MemRange{info.uart_base, kUartSize};
  for (uint32_t i = 0; i < n; ++i) {
    if (!Fits(devices[i])) {
      return BootStatus::Error("device tree: a device region wraps around the address space",
                               devices[i].base);
    }
    for (uint32_t m = 0; m < info.mem_count; ++m) {
      if (Overlap(devices[i], info.mem[m])) {
        return BootStatus::Error("device tree: a GIC or UART region overlaps RAM", devices[i].base);
      }
    }
    for (uint32_t j = 0; j < i; ++j) {
      if (Overlap(devices[i], devices[j])) {
        return BootStatus::Error("device tree: two GIC/UART regions overlap", devices[i].base);
      }
    }
  }
  if (info.initrd.size != 0) {
    bool in_ram = false;
    for (uint32_t m = 0; m < info.mem_count; ++m) {
      const MemRange& r = info.mem[m];
      in_ram |= info.initrd.base >= r.base && info.initrd.end() <= r.end();
    }
    if (!in_ram)
      return BootStatus::Error("device tree: the initrd is not inside RAM", info.initrd.base);
  }
  return BootStatus::Ok();
}

BootStatus ParseBootInfo(const Blob& blob, BootInfo& info) {
  return Parser(blob, info).Run();
}

}  // namespace lichen::fdt
