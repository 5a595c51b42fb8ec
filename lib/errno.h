// Linux errno values, for the system-call layer and the parts that speak its language (the
// futex core). They are the numbers of asm-generic/errno-base.h and errno.h, which arm64 uses;
// a Linux program compares them with its own <errno.h>, so they must be these.
//
// Convention: a function that implements a system call returns int64_t, the value the
// syscall hands back in x0: a result >= 0, or -errno (SyscallError(Errno::kAgain) == -11).
// That is what the arm64 entry code stores as is, and what libc turns into errno.
#pragma once

#include <cstdint>

namespace lichen {

enum class Errno : int32_t {
  kPerm = 1,          // EPERM
  kNoEnt = 2,         // ENOENT: no such file
  kSrch = 3,          // ESRCH: no such process or thread
  kIntr = 4,          // EINTR: interrupted (a signal, later; sched::Interrupt now)
  kIo = 5,            // EIO
  kTooBig = 7,        // E2BIG
  kNoExec = 8,        // ENOEXEC: not an executable this kernel runs
  kBadF = 9,          // EBADF: not an open file descriptor
  kChild = 10,        // ECHILD: no child to wait for
  kAgain = 11,        // EAGAIN (== EWOULDBLOCK): the futex word was not the expected value
  kNoMem = 12,        // ENOMEM: out of memory, or no room in the address space (mmap)
  kAcces = 13,        // EACCES
  kFault = 14,        // EFAULT: a bad user pointer
  kExist = 17,        // EEXIST: a file that exists; MAP_FIXED_NOREPLACE over a mapping
  kNotDir = 20,       // ENOTDIR
  kIsDir = 21,        // EISDIR
  kInval = 22,        // EINVAL
  kMFile = 24,        // EMFILE: the file table is full
  kNoTty = 25,        // ENOTTY: not a terminal (an ioctl the file does not answer)
  kSPipe = 29,        // ESPIPE: not seekable
  kRoFs = 30,         // EROFS: read-only file system
  kRange = 34,        // ERANGE
  kNameTooLong = 36,  // ENAMETOOLONG: a user string longer than its bound
  kNoSys = 38,        // ENOSYS: no such operation
  kLoop = 40,         // ELOOP: too many symbolic links
  kOverflow = 75,     // EOVERFLOW
  kTimedOut = 110,    // ETIMEDOUT
};

// The syscall return value for `e`: -errno.
constexpr int64_t SyscallError(Errno e) {
  return -static_cast<int64_t>(e);
}

}  // namespace lichen
