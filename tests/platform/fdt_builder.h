// FdtBuilder: writes small flattened device trees for the parser's tests, so that each test
// states the one thing it makes wrong; and MachineTree(), a QEMU-virt-like tree whose every
// boot-relevant value a test can change.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace lichen::test {

class FdtBuilder {
 public:
  void BeginNode(std::string_view name) {
    Token(1);
    for (char c : name)
      struct_.push_back(static_cast<uint8_t>(c));
    struct_.push_back(0);
    Pad();
  }
  void EndNode() { Token(2); }
  void Prop(std::string_view name, const std::vector<uint8_t>& value) {
    Token(3);
    Be32(struct_, static_cast<uint32_t>(value.size()));
    Be32(struct_, NameOffset(name));
    struct_.insert(struct_.end(), value.begin(), value.end());
    Pad();
  }
  void PropCells(std::string_view name, std::initializer_list<uint32_t> cells) {
    std::vector<uint8_t> v;
    for (uint32_t c : cells)
      Be32(v, c);
    Prop(name, v);
  }
  // A NUL-separated string list ("a\0b" gives "a", "b").
  void PropString(std::string_view name, std::string_view s) {
    std::vector<uint8_t> v(s.begin(), s.end());
    v.push_back(0);
    Prop(name, v);
  }
  void Nop() { Token(4); }
  void Reserve(uint64_t base, uint64_t size) { reserved_.push_back({base, size}); }

  // Header + reservation map + structure block (with FDT_END) + strings block.
  std::vector<uint8_t> Finish() const {
    std::vector<uint8_t> rsv;
    for (const auto& r : reserved_) {
      Be64(rsv, r.first);
      Be64(rsv, r.second);
    }
    Be64(rsv, 0);
    Be64(rsv, 0);
    std::vector<uint8_t> st = struct_;
    Be32(st, 9);
    const uint32_t off_rsv = 40;
    const uint32_t off_struct = off_rsv + static_cast<uint32_t>(rsv.size());
    const uint32_t off_strings = off_struct + static_cast<uint32_t>(st.size());
    const uint32_t total = off_strings + static_cast<uint32_t>(strings_.size());
    std::vector<uint8_t> out;
    for (uint32_t v : {0xd00dfeedu, total, off_struct, off_strings, off_rsv, 17u, 16u, 0u,
                       static_cast<uint32_t>(strings_.size()), static_cast<uint32_t>(st.size())})
      Be32(out, v);
    out.insert(out.end(), rsv.begin(), rsv.end());
    out.insert(out.end(), st.begin(), st.end());
    out.insert(out.end(), strings_.begin(), strings_.end());
    return out;
  }

  static void Be32(std::vector<uint8_t>& v, uint32_t x) {
    for (int s = 24; s >= 0; s -= 8)
      v.push_back(static_cast<uint8_t>(x >> s));
  }
  static void Be64(std::vector<uint8_t>& v, uint64_t x) {
    Be32(v, static_cast<uint32_t>(x >> 32));
    Be32(v, static_cast<uint32_t>(x));
  }

  // Appends a raw token (for malformed structure blocks).
  void Token(uint32_t t) { Be32(struct_, t); }
  std::vector<uint8_t>& raw_struct() { return struct_; }

 private:
  void Pad() {
    while (struct_.size() % 4 != 0)
      struct_.push_back(0);
  }
  uint32_t NameOffset(std::string_view name) {
    const std::string_view all(reinterpret_cast<const char*>(strings_.data()), strings_.size());
    for (size_t at = 0; at < all.size(); at = all.find('\0', at) + 1) {
      if (all.substr(at, all.find('\0', at) - at) == name) return static_cast<uint32_t>(at);
    }
    const uint32_t at = static_cast<uint32_t>(strings_.size());
    strings_.insert(strings_.end(), name.begin(), name.end());
    strings_.push_back(0);
    return at;
  }

  std::vector<uint8_t> struct_;
  std::vector<uint8_t> strings_;
  std::vector<std::pair<uint64_t, uint64_t>> reserved_;
};

// What MachineTree() writes; every field a test may change. Two-cell addresses and sizes at
// the root (like QEMU virt), one-cell CPU ids.
struct MachineSpec {
  std::vector<uint32_t> cpu_ids = {0, 1, 2, 3};
  std::vector<std::pair<uint64_t, uint64_t>> memory = {{0x40000000, 0x10000000}};
  uint64_t gicd_base = 0x08000000, gicd_size = 0x10000;
  uint64_t gicr_base = 0x080a0000, gicr_size = 0xf60000;
  uint64_t uart_base = 0x09000000;
  std::string psci_method = "hvc";
  std::string bootargs;                            // no bootargs property if empty
  std::vector<uint32_t> initrd_start, initrd_end;  // cells; no property if empty
};

inline std::vector<uint8_t> MachineTree(const MachineSpec& m) {
  FdtBuilder b;
  auto hi = [](uint64_t v) { return static_cast<uint32_t>(v >> 32); };
  auto lo = [](uint64_t v) { return static_cast<uint32_t>(v); };
  b.BeginNode("");
  b.PropCells("#address-cells", {2});
  b.PropCells("#size-cells", {2});
  b.PropString("compatible", "linux,dummy-virt");
  b.BeginNode("psci");
  b.PropString("compatible", std::string_view("arm,psci-1.0\0arm,psci-0.2\0arm,psci", 34));
  b.PropString("method", m.psci_method);
  b.EndNode();
  for (const auto& [base, size] : m.memory) {
    b.BeginNode("memory@40000000");
    b.PropCells("reg", {hi(base), lo(base), hi(size), lo(size)});
    b.PropString("device_type", "memory");
    b.EndNode();
  }
  b.BeginNode("pl011@9000000");
  b.PropCells("reg", {hi(m.uart_base), lo(m.uart_base), 0, 0x1000});
  b.PropString("compatible", std::string_view("arm,pl011\0arm,primecell", 23));
  b.EndNode();
  b.BeginNode("intc@8000000");
  b.PropCells("reg", {hi(m.gicd_base), lo(m.gicd_base), hi(m.gicd_size), lo(m.gicd_size),
                      hi(m.gicr_base), lo(m.gicr_base), hi(m.gicr_size), lo(m.gicr_size)});
  b.PropCells("#redistributor-regions", {1});
  b.PropString("compatible", "arm,gic-v3");
  b.PropCells("#size-cells", {2});
  b.PropCells("#address-cells", {2});
  b.EndNode();
  b.BeginNode("cpus");
  b.PropCells("#size-cells", {0});
  b.PropCells("#address-cells", {1});
  for (uint32_t id : m.cpu_ids) {
    b.BeginNode("cpu@" + std::to_string(id));
    b.PropCells("reg", {id});
    b.PropString("device_type", "cpu");
    b.EndNode();
  }
  b.EndNode();
  b.BeginNode("timer");
  b.PropCells("interrupts", {1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4});
  b.PropString("compatible", std::string_view("arm,armv8-timer\0arm,armv7-timer", 31));
  b.EndNode();
  b.BeginNode("chosen");
  if (!m.initrd_end.empty()) {
    std::vector<uint8_t> v;
    for (uint32_t c : m.initrd_end)
      FdtBuilder::Be32(v, c);
    b.Prop("linux,initrd-end", v);
  }
  if (!m.initrd_start.empty()) {
    std::vector<uint8_t> v;
    for (uint32_t c : m.initrd_start)
      FdtBuilder::Be32(v, c);
    b.Prop("linux,initrd-start", v);
  }
  if (!m.bootargs.empty()) b.PropString("bootargs", m.bootargs);
  b.PropString("stdout-path", "/pl011@9000000");
  b.EndNode();
  b.EndNode();
  return b.Finish();
}

}  // namespace lichen::test
