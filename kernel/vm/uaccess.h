// Copies between the kernel and user memory. The kernel never dereferences a user pointer:
// each copy walks the address space's page tables in software, faults a missing page in
// through the normal fault path (HandleFault's rules: the region must allow the access), and
// copies through the kernel's direct map (platform::PhysToKernel), holding the space's lock
// so that no munmap can free a page under the copy. A bad pointer is -EFAULT, never a fault
// in the kernel; the same code runs in the simulator and on aarch64, and needs no exception
// fixup table.
//
// Results are what a system call returns: 0 (or a length) on success, -errno otherwise
// (lib/errno.h). A copy that fails part-way may have written a prefix of the destination
// (user memory for CopyToUser), as Linux's copy_to_user may.
//
// The futex word operations (LoadWordNoFault, FetchOpWordNoFault) are for callers that hold
// a spinlock (the futex bucket lock): they never sleep and never fault a page in. They take
// the space's table lock instead of its sleeping lock, and fail with -EFAULT when the page is
// not mapped with the needed permission; the caller then drops its spinlock, calls
// FaultInWord (which may sleep) and retries, as Linux's futex code does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/vm/address_space.h"
#include "lib/errno.h"

namespace lichen::vm {

// Copies n bytes from user address `src` to kernel memory `dst`: 0 or -EFAULT.
int64_t CopyFromUser(AddressSpace& as, void* dst, uintptr_t src, size_t n);

// Copies n bytes from kernel memory `src` to user address `dst`: 0 or -EFAULT. The pages must
// allow user writes (a read-only mapping is -EFAULT, as Linux's copy_to_user).
int64_t CopyToUser(AddressSpace& as, uintptr_t dst, const void* src, size_t n);

// Copies a NUL-terminated string of at most `cap` bytes, NUL included, from user address
// `src` into dst[0..cap). Returns its length without the NUL (dst is then NUL-terminated),
// -ENAMETOOLONG when no NUL is found in the first `cap` bytes (dst holds them, unterminated),
// -EFAULT when a page before the NUL is not readable, -EINVAL when cap is 0.
int64_t StrncpyFromUser(AddressSpace& as, char* dst, uintptr_t src, size_t cap);

// Fills n bytes at user address `dst` with zeros: 0 or -EFAULT (clear_user).
int64_t ClearUser(AddressSpace& as, uintptr_t dst, size_t n);

// Reads the aligned 32-bit word at `uaddr` with an acquire load, without sleeping: 0 and
// *value, or -EFAULT (not mapped now, not readable, unaligned). Never faults a page in.
int64_t LoadWordNoFault(AddressSpace& as, uintptr_t uaddr, uint32_t* value);

// The operation FetchOpWordNoFault applies: returns the new value from the old one.
using WordUpdate = uint32_t (*)(uint32_t old, uint32_t operand);

// Atomically replaces the aligned 32-bit word at `uaddr` by update(old, operand) and stores
// the old value in *old, without sleeping: 0, or -EFAULT (not mapped writable now,
// unaligned). Never faults a page in.
int64_t FetchOpWordNoFault(AddressSpace& as, uintptr_t uaddr, WordUpdate update, uint32_t operand,
                           uint32_t* old);

// Faults the page holding `uaddr` in for `access` (what to do after a *NoFault call failed):
// 0, or -EFAULT when the address is not mapped for that access, -ENOMEM out of memory.
// May sleep.
int64_t FaultInWord(AddressSpace& as, uintptr_t uaddr, Access access);

}  // namespace lichen::vm
