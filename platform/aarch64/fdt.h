// A freestanding, bounds-checked reader of flattened device trees (FDT, devicetree spec v0.4
// chapter 5) and the extraction of BootInfo from one.
//
// Every offset and length read from the blob is checked against the blob's own header before
// it is used, so a truncated or malformed blob yields an error BootStatus, never a fault. All
// multi-byte values are assembled from single bytes: the parser runs on the boot CPU before
// the MMU is on, when unaligned accesses would fault, and it has no aarch64-only code, so it
// also compiles for the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/status.h"

namespace lichen::fdt {

using aarch64::BootStatus;

// The FDT header's magic number (big-endian in the blob).
inline constexpr uint32_t kMagic = 0xd00dfeed;
// Upper bound on an accepted blob's totalsize; a larger one is treated as corrupt.
inline constexpr uint32_t kMaxBlobSize = 16 * 1024 * 1024;
// Deepest node nesting the parser accepts.
inline constexpr uint32_t kMaxDepth = 16;

// Big-endian loads, byte by byte (alignment-safe).
uint32_t LoadBe32(const uint8_t* p);
uint64_t LoadBe64(const uint8_t* p);

// True if `blob` starts with the FDT magic number.
bool HasMagic(const void* blob);

// A blob whose header has been validated: the structure block, the strings block and the
// memory reservation map all lie inside totalsize.
class Blob {
 public:
  // Validates the header of the blob at `data`. At most `max_size` bytes from `data` may be
  // read (the blob's totalsize must not exceed it).
  static BootStatus Open(const void* data, size_t max_size, Blob& out);

  // The blob's first byte and its validated totalsize.
  const uint8_t* data() const { return base_; }
  uint32_t total_size() const { return total_size_; }

 private:
  friend class Parser;  // reads the block offsets below
  const uint8_t* base_ = nullptr;
  uint32_t total_size_ = 0;
  uint32_t struct_offset_ = 0;
  uint32_t struct_size_ = 0;
  uint32_t strings_offset_ = 0;
  uint32_t strings_size_ = 0;
  uint32_t reserve_map_offset_ = 0;
};

// The sizes of the device frames the kernel maps and drives (GICv3 architecture: a 64 KiB
// distributor frame; PL011: one 4 KiB page).
inline constexpr uint64_t kGicDistributorSize = 0x10000;
inline constexpr uint64_t kUartSize = 0x1000;

// Fills `info` from the blob: CPUs, memory, reserved ranges, GICv3, PL011, generic timer,
// PSCI, /chosen/bootargs and the initrd. Missing required nodes (memory, cpus, GICv3, PL011,
// timer) and any malformed structure are errors, and so is a result CheckBootInfo() rejects.
// `info` is only partially filled on error.
BootStatus ParseBootInfo(const Blob& blob, BootInfo& info);

// Checks that what a well-formed device tree said makes sense as a machine before the kernel
// maps and touches it: RAM ranges that do not overlap, device frames (GICD, GICR regions,
// PL011) that neither wrap around, nor overlap RAM, nor overlap each other, and an initrd
// inside RAM. A tree that fails this would otherwise fault (or silently corrupt memory) long
// after parsing, far from the cause.
BootStatus CheckBootInfo(const BootInfo& info);

}  // namespace lichen::fdt
