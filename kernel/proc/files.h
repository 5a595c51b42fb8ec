// The seam between processes and the file system.
//
// Process creation, fork and execve reach files only through these functions, so that the
// file system behind them (the initramfs read-only today; a VFS with a writable RAM file
// system, pipes and /proc for issue #11) can change without touching process code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/proc/process.h"
#include "lib/result.h"

namespace lichen::proc {

// fork(2): gives `child` (not yet running, not visible to anyone) a copy of `parent`'s file
// table: each descriptor refers to the same open file description as the parent's, with its
// close-on-exec flag, as dup(2) would. kNoMemory if the copy cannot be made.
Result<void> CopyFilesForFork(Process& parent, Process& child);

// execve(2): closes the calling process's descriptors marked close-on-exec.
void CloseOnExecFiles(Process& p);

// execve(2)'s program: the bytes of the regular file at `path` (an absolute path, or relative
// to `caller`'s working directory; `caller` null: the root), contiguous and read-only. `pin`
// keeps them valid (an unlinked or rewritten file keeps these bytes) until ReleaseProgram;
// the address space that maps the image holds it for its lifetime.
struct ProgramImage {
  const uint8_t* data = nullptr;
  size_t size = 0;
  void* pin = nullptr;  // opaque to callers
};
// Returns 0, or -errno as execve(2) reports it: ENOENT, ENOTDIR, EACCES (not a regular file,
// or not executable), ELOOP...
int64_t FindProgram(Process* caller, const char* path, ProgramImage& out);
void ReleaseProgram(ProgramImage& image);

}  // namespace lichen::proc
