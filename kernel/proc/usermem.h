// User memory for the process layer: copies to and from an address space, and the futex
// core's view of it. Thin wrappers on kernel/vm's uaccess (contract decision 1: the kernel
// never dereferences a user pointer; a bad pointer is a false / EFAULT, never a fault).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/futex/futex.h"
#include "lib/result.h"

namespace lichen::vm {
class AddressSpace;
}

namespace lichen::proc {

struct Process;

// Copies `len` bytes; false when any byte is not accessible (EFAULT). Faults pages in as a
// user access would; may sleep.
[[nodiscard]] bool CopyFromUser(vm::AddressSpace& as, void* dst, uintptr_t src, size_t len);
[[nodiscard]] bool CopyToUser(vm::AddressSpace& as, uintptr_t dst, const void* src, size_t len);

// Copies a NUL-terminated string of at most `size - 1` characters into `dst` (NUL included).
// Its length, or kFault (-EFAULT) / kNameTooLong (-ENAMETOOLONG) as a negative errno.
int64_t CopyStringFromUser(vm::AddressSpace& as, char* dst, size_t size, uintptr_t src);

// The robust-futex death of a lock word (Linux's handle_futex_death), in one atomic step: if
// the word's owner bits are `tid`, it becomes (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED.
// The old word in *old; false on a bad address (faulted in and retried once first).
bool MarkOwnerDied(vm::AddressSpace& as, uintptr_t uaddr, uint32_t tid, uint32_t* old);

// The futex core's access to `as` (kernel/futex/futex.h): the word operations do not sleep
// and fail on an absent page; futex::Futex callers go through FutexCall, which faults the
// page in and retries.
futex::UserMemory FutexMemoryOf(vm::AddressSpace& as);
// The futex key's address-space identity: the process's pid (stable, and the same in every
// simulator replay, unlike a heap address).
futex::Space FutexSpaceOf(const Process& p);
// futex(2) for the calling process: EFAULT from a word that is absent but mapped is retried
// after faulting the page in (Linux's fault_in_user_writeable and retry).
int64_t FutexCall(const futex::Args& args);

}  // namespace lichen::proc
