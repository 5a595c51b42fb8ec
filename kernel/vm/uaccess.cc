#include "kernel/vm/uaccess.h"

#include <cstring>

#include "kernel/base/debug.h"
#include "kernel/base/platform_mmu.h"
#include "lib/atomic.h"

namespace lichen::vm {

namespace {

constexpr int64_t kEFault = SyscallError(Errno::kFault);

// True when [addr, addr + n) lies in user space (n > 0).
bool InUserSpace(uintptr_t addr, size_t n) {
  return addr >= platform::kUserVaBottom && addr < platform::kUserVaTop &&
         n <= platform::kUserVaTop - addr;
}

// The kernel address of user byte `addr`, its page mapped for `access` (faulted in if need
// be), or nullptr. The space's lock is held, so the page stays mapped until it is released.
uint8_t* PinnedByte(AddressSpace& as, uintptr_t addr, Access access) TA_REQ(as.lock()) {
  uint64_t e = as.LookupEntry(addr);
  if (!EntryPermits(e, access)) {
    if (as.FaultLocked(addr, access) != FaultResult::kOk) return nullptr;
    e = as.LookupEntry(addr);
    if (!EntryPermits(e, access)) return nullptr;
  }
  return reinterpret_cast<uint8_t*>(platform::PhysToKernel(platform::EntryAddress(e))) +
         (addr & kPageMask);
}

// The kernel address of user byte `addr` if its page is mapped for `access` now, without
// faulting, or nullptr. The table lock is held: an unmap clears the entry under it before it
// frees the page, so the page stays until the lock is released.
uint8_t* MappedByte(AddressSpace& as, uintptr_t addr, Access access) TA_REQ(as.table_lock()) {
  const uint64_t e = as.LookupEntry(addr);
  if (!EntryPermits(e, access)) return nullptr;
  return reinterpret_cast<uint8_t*>(platform::PhysToKernel(platform::EntryAddress(e))) +
         (addr & kPageMask);
}

// Calls fn(kernel pointer, offset, bytes) for the piece of the user range that starts at
// `at` and stays in its page, and returns the piece's size, or -EFAULT if it is not
// accessible. fn returns how many bytes of the piece it used (less: it is done, e.g. a string
// ended). The common case, a page already mapped, takes only the space's table lock, a
// spinlock held for one page's copy: every system call of every thread copies, and with the
// space's sleeping lock there the threads of one process queued behind each other on every
// getcpu (a convoy: usertest's affinity case took 12 s on 4 vCPUs instead of 0.1 s). Only a
// page that must be faulted in takes the sleeping lock, as a fault from user space would.
template <typename Fn>
int64_t OnePiece(AddressSpace& as, uintptr_t at, size_t want, Access access, Fn&& fn) {
  const size_t in_page = kPageSize - (at & kPageMask);
  const size_t chunk = want < in_page ? want : in_page;
  if (!LICHEN_FAULT(vm_copy_takes_space_lock)) {
    LockGuard<SpinLock> guard(as.table_lock());
    if (uint8_t* k = MappedByte(as, at, access)) return static_cast<int64_t>(fn(k, chunk));
  }
  LockGuard<Mutex> guard(as.lock());
  uint8_t* k = PinnedByte(as, at, access);
  if (k == nullptr) return kEFault;
  return static_cast<int64_t>(fn(k, chunk));
}

// Calls fn(kernel pointer, offset into the range, bytes) for each page-sized piece of the
// user range [addr, addr + n). -EFAULT as soon as a piece is not accessible.
template <typename Fn>
int64_t ForEachPiece(AddressSpace& as, uintptr_t addr, size_t n, Access access, Fn&& fn) {
  if (n == 0) return 0;
  if (!InUserSpace(addr, n)) return kEFault;
  size_t done = 0;
  while (done < n) {
    const int64_t piece =
        OnePiece(as, addr + done, n - done, access, [&](uint8_t* k, size_t chunk) {
          fn(k, done, chunk);
          return chunk;
        });
    if (piece < 0) return piece;
    done += static_cast<size_t>(piece);
  }
  return 0;
}

// The 32-bit word at `uaddr` through the direct map, with the table lock held (the page
// cannot be freed meanwhile: an unmap clears its entry under that lock first), or nullptr.
Atomic<uint32_t>* WordNoFault(AddressSpace& as, uintptr_t uaddr, Access access)
    TA_REQ(as.table_lock()) {
  const uint64_t e = as.LookupEntry(uaddr);
  if (!EntryPermits(e, access)) return nullptr;
  static_assert(sizeof(Atomic<uint32_t>) == sizeof(uint32_t));
  return reinterpret_cast<Atomic<uint32_t>*>(platform::PhysToKernel(platform::EntryAddress(e)) +
                                             (uaddr & kPageMask));
}

}  // namespace

int64_t CopyFromUser(AddressSpace& as, void* dst, uintptr_t src, size_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  return ForEachPiece(as, src, n, Access::kRead,
                      [&](uint8_t* k, size_t done, size_t chunk) { memcpy(out + done, k, chunk); });
}

int64_t CopyToUser(AddressSpace& as, uintptr_t dst, const void* src, size_t n) {
  const auto* in = static_cast<const uint8_t*>(src);
  return ForEachPiece(as, dst, n, Access::kWrite,
                      [&](uint8_t* k, size_t done, size_t chunk) { memcpy(k, in + done, chunk); });
}

int64_t ClearUser(AddressSpace& as, uintptr_t dst, size_t n) {
  return ForEachPiece(as, dst, n, Access::kWrite,
                      [&](uint8_t* k, size_t, size_t chunk) { memset(k, 0, chunk); });
}

int64_t StrncpyFromUser(AddressSpace& as, char* dst, uintptr_t src, size_t cap) {
  if (cap == 0) return SyscallError(Errno::kInval);
  if (src < platform::kUserVaBottom || src >= platform::kUserVaTop) return kEFault;
  size_t done = 0;
  bool ended = false;
  while (done < cap) {
    const uintptr_t at = src + done;
    // A string running into the end of user space is a bad pointer there, as a missing page.
    if (at >= platform::kUserVaTop) return kEFault;
    const int64_t piece =
        OnePiece(as, at, cap - done, Access::kRead, [&](uint8_t* k, size_t chunk) {
          const void* nul = memchr(k, 0, chunk);
          const size_t len = nul != nullptr
                                 ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - k) + 1
                                 : chunk;
          memcpy(dst + done, k, len);
          ended = nul != nullptr;
          return len;
        });
    if (piece < 0) return piece;
    done += static_cast<size_t>(piece);
    if (ended) return static_cast<int64_t>(done - 1);  // the length, without the NUL
  }
  return SyscallError(Errno::kNameTooLong);
}

int64_t LoadWordNoFault(AddressSpace& as, uintptr_t uaddr, uint32_t* value) {
  if ((uaddr & 3) != 0 || !InUserSpace(uaddr, 4)) return kEFault;
  LockGuard<SpinLock> guard(as.table_lock());
  Atomic<uint32_t>* word = WordNoFault(as, uaddr, Access::kRead);
  if (word == nullptr) return kEFault;
  *value = word->Load(std::memory_order_acquire);
  return 0;
}

int64_t FetchOpWordNoFault(AddressSpace& as, uintptr_t uaddr, WordUpdate update, uint32_t operand,
                           uint32_t* old) {
  if ((uaddr & 3) != 0 || !InUserSpace(uaddr, 4)) return kEFault;
  LockGuard<SpinLock> guard(as.table_lock());
  Atomic<uint32_t>* word = WordNoFault(as, uaddr, Access::kWrite);
  if (word == nullptr) return kEFault;
  uint32_t seen = word->Load(std::memory_order_relaxed);
  while (!word->CompareExchange(seen, update(seen, operand), std::memory_order_seq_cst,
                                std::memory_order_relaxed)) {
  }
  *old = seen;
  return 0;
}

int64_t FaultInWord(AddressSpace& as, uintptr_t uaddr, Access access) {
  switch (HandleFault(as, uaddr, access)) {
    case FaultResult::kOk:
      return 0;
    case FaultResult::kNoMemory:
      return SyscallError(Errno::kNoMem);
    case FaultResult::kSegvMapErr:
    case FaultResult::kSegvAccErr:
      break;
  }
  return kEFault;
}

}  // namespace lichen::vm
