// clone(2): new threads of the calling process.
#pragma once

#include <cstdint>

#include "kernel/user/regs.h"

namespace lichen::proc {

// clone's flags (<linux/sched.h>).
inline constexpr uint64_t kCsignal = 0x000000ff;
inline constexpr uint64_t kCloneVm = 0x00000100;
inline constexpr uint64_t kCloneFs = 0x00000200;
inline constexpr uint64_t kCloneFiles = 0x00000400;
inline constexpr uint64_t kCloneSighand = 0x00000800;
inline constexpr uint64_t kClonePidfd = 0x00001000;
inline constexpr uint64_t kClonePtrace = 0x00002000;
inline constexpr uint64_t kCloneVfork = 0x00004000;
inline constexpr uint64_t kCloneParent = 0x00008000;
inline constexpr uint64_t kCloneThread = 0x00010000;
inline constexpr uint64_t kCloneNewNs = 0x00020000;
inline constexpr uint64_t kCloneSysvsem = 0x00040000;
inline constexpr uint64_t kCloneSettls = 0x00080000;
inline constexpr uint64_t kCloneParentSettid = 0x00100000;
inline constexpr uint64_t kCloneChildCleartid = 0x00200000;
inline constexpr uint64_t kCloneDetached = 0x00400000;
inline constexpr uint64_t kCloneUntraced = 0x00800000;
inline constexpr uint64_t kCloneChildSettid = 0x01000000;
inline constexpr uint64_t kCloneIo = 0x80000000;

// clone(flags, newsp, parent_tid, tls, child_tid) from the calling thread, whose registers
// are `regs`: the child starts with them, x0 = 0, sp = newsp (if not 0), TPIDR_EL0 = tls
// with CLONE_SETTLS. Returns the child's tid or -errno: EINVAL for the combinations Linux
// refuses (THREAD without SIGHAND, SIGHAND without VM, NEWNS with FS), ENOSYS for what is
// not a thread (fork, vfork, namespaces, pidfds, ptrace), EAGAIN out of memory, EINTR when
// the process is exiting.
int64_t Clone(const UserRegs& regs, uint64_t flags, uintptr_t newsp, uintptr_t parent_tid,
              uint64_t tls, uintptr_t child_tid);

}  // namespace lichen::proc
