// User memory for the process layer, on kernel/vm's uaccess.
#include "kernel/proc/usermem.h"

#include "kernel/proc/process.h"
#include "kernel/vm/address_space.h"
#include "kernel/vm/uaccess.h"
#include "lib/errno.h"

namespace lichen::proc {

namespace {

constexpr uint32_t kFutexWaiters = 0x80000000;
constexpr uint32_t kFutexOwnerDied = 0x40000000;
constexpr uint32_t kFutexTidMask = 0x3fffffff;

uint32_t OwnerDied(uint32_t old, uint32_t tid) {
  if ((old & kFutexTidMask) != tid) return old;
  return (old & kFutexWaiters) | kFutexOwnerDied;
}

uint32_t ApplyOp(futex::WordOp op, uint32_t old, uint32_t operand) {
  return futex::ApplyWordOp(op, old, operand);
}

// FetchOpWordNoFault takes a plain function of (old, operand): one per WAKE_OP operation.
template <futex::WordOp kOp>
uint32_t ApplyOpOf(uint32_t old, uint32_t operand) {
  return ApplyOp(kOp, old, operand);
}

vm::WordUpdate UpdateFor(futex::WordOp op) {
  switch (op) {
    case futex::WordOp::kSet:
      return &ApplyOpOf<futex::WordOp::kSet>;
    case futex::WordOp::kAdd:
      return &ApplyOpOf<futex::WordOp::kAdd>;
    case futex::WordOp::kOr:
      return &ApplyOpOf<futex::WordOp::kOr>;
    case futex::WordOp::kAndn:
      return &ApplyOpOf<futex::WordOp::kAndn>;
    case futex::WordOp::kXor:
      return &ApplyOpOf<futex::WordOp::kXor>;
  }
  return &ApplyOpOf<futex::WordOp::kSet>;
}

Result<uint32_t> FutexLoad(void* ctx, uintptr_t uaddr) {
  uint32_t value = 0;
  if (vm::LoadWordNoFault(*static_cast<vm::AddressSpace*>(ctx), uaddr, &value) != 0) {
    return Error::kInvalidArgument;
  }
  return value;
}

Result<uint32_t> FutexFetchOp(void* ctx, uintptr_t uaddr, futex::WordOp op, uint32_t operand) {
  uint32_t old = 0;
  if (vm::FetchOpWordNoFault(*static_cast<vm::AddressSpace*>(ctx), uaddr, UpdateFor(op), operand,
                             &old) != 0) {
    return Error::kInvalidArgument;
  }
  return old;
}

Result<futex::Timespec> FutexTimespec(void* ctx, uintptr_t uaddr) {
  futex::Timespec ts;
  if (vm::CopyFromUser(*static_cast<vm::AddressSpace*>(ctx), &ts, uaddr, sizeof(ts)) != 0) {
    return Error::kInvalidArgument;
  }
  return ts;
}

}  // namespace

bool CopyFromUser(vm::AddressSpace& as, void* dst, uintptr_t src, size_t len) {
  if (len == 0) return true;
  return vm::CopyFromUser(as, dst, src, len) == 0;
}

bool CopyToUser(vm::AddressSpace& as, uintptr_t dst, const void* src, size_t len) {
  if (len == 0) return true;
  return vm::CopyToUser(as, dst, src, len) == 0;
}

int64_t CopyStringFromUser(vm::AddressSpace& as, char* dst, size_t size, uintptr_t src) {
  return vm::StrncpyFromUser(as, dst, src, size);
}

bool MarkOwnerDied(vm::AddressSpace& as, uintptr_t uaddr, uint32_t tid, uint32_t* old) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (vm::FetchOpWordNoFault(as, uaddr, &OwnerDied, tid, old) == 0) return true;
    if (vm::FaultInWord(as, uaddr, vm::Access::kWrite) != 0) return false;
  }
  return false;
}

futex::UserMemory FutexMemoryOf(vm::AddressSpace& as) {
  futex::UserMemory mem;
  mem.ctx = &as;
  mem.load = &FutexLoad;
  mem.fetch_op = &FutexFetchOp;
  mem.load_timespec = &FutexTimespec;
  return mem;
}

futex::Space FutexSpaceOf(const Process& p) {
  return reinterpret_cast<futex::Space>(static_cast<uintptr_t>(p.pid));
}

int64_t FutexCall(const futex::Args& args) {
  Process* p = CurrentProcess();
  vm::AddressSpace& as = *p->as;
  const futex::UserMemory mem = FutexMemoryOf(as);
  const uint32_t cmd = args.op & futex::kCmdMask;
  // The word each op touches, and whether it writes it (WAKE_OP writes uaddr2).
  for (int attempt = 0;; ++attempt) {
    const int64_t result = futex::Futex(FutexSpaceOf(*p), mem, args);
    if (result != SyscallError(Errno::kFault) || attempt >= 4) return result;
    // EFAULT from a word whose page is simply not there yet (demand paging) is not an error:
    // fault the page in without any lock held and retry, as Linux does. A timeout pointer
    // that is bad stays EFAULT: CopyFromUser already faulted it in if it could.
    const bool writes2 = cmd == futex::kWakeOp;
    if (vm::FaultInWord(as, args.uaddr, vm::Access::kRead) != 0) return result;
    const bool uses2 = cmd == futex::kRequeue || cmd == futex::kCmpRequeue || cmd == futex::kWakeOp;
    if (uses2 &&
        vm::FaultInWord(as, args.uaddr2, writes2 ? vm::Access::kWrite : vm::Access::kRead) != 0) {
      return result;
    }
  }
}

}  // namespace lichen::proc
