// Memory: brk, mmap, munmap, mprotect, madvise, on the address space's own calls (kernel/vm),
// which already answer as Linux does. What is checked here is what only the syscall sees.
#include "kernel/syscall/calls.h"
#include "kernel/vm/address_space.h"

namespace lichen::syscall {

namespace {

constexpr int kMadvNormal = 0;
constexpr int kMadvRandom = 1;
constexpr int kMadvSequential = 2;
constexpr int kMadvWillneed = 3;
constexpr int kMadvDontneed = 4;
constexpr int kMadvFree = 8;
constexpr int kMadvHugepage = 14;
constexpr int kMadvNohugepage = 15;
constexpr int kMadvDontdump = 16;
constexpr int kMadvDodump = 17;

}  // namespace

int64_t SysBrk(Call& c) {
  return static_cast<int64_t>(c.as.Brk(c.arg(0)));
}

int64_t SysMmap(Call& c) {
  const uint64_t addr = c.arg(0);
  const uint64_t len = c.arg(1);
  const uint32_t prot = static_cast<uint32_t>(c.arg(2));
  const uint32_t flags = static_cast<uint32_t>(c.arg(3));
  const int32_t fd = c.iarg(4);
  const uint64_t offset = c.arg(5);
  if ((offset & vm::kPageMask) != 0) return Err(Errno::kInval);
  if ((flags & vm::kMapAnonymous) == 0) {
    // File mappings: the initramfs's files could be mapped read-only from its bytes, but no
    // program needs it yet; a file descriptor that is not one is EBADF, a file ENODEV.
    (void)fd;
    return Err(Errno::kBadF);
  }
  return c.as.Map(addr, len, prot, flags);
}

int64_t SysMunmap(Call& c) {
  return c.as.Unmap(c.arg(0), c.arg(1));
}

int64_t SysMprotect(Call& c) {
  return c.as.Protect(c.arg(0), c.arg(1), static_cast<uint32_t>(c.arg(2)));
}

int64_t SysMadvise(Call& c) {
  const uint64_t addr = c.arg(0);
  const uint64_t len = c.arg(1);
  const int advice = c.iarg(2);
  if ((addr & vm::kPageMask) != 0) return Err(Errno::kInval);
  switch (advice) {
    case kMadvDontneed:
      return c.as.AdviseDontNeed(addr, len);
    case kMadvFree:
      // MADV_FREE lets the kernel drop the pages lazily; dropping them now is allowed.
      return c.as.AdviseDontNeed(addr, len);
    case kMadvNormal:
    case kMadvRandom:
    case kMadvSequential:
    case kMadvWillneed:
    case kMadvHugepage:
    case kMadvNohugepage:
    case kMadvDontdump:
    case kMadvDodump:
      return 0;  // hints only
    default:
      return Err(Errno::kInval);
  }
}

}  // namespace lichen::syscall
