// The file seam (files.h) over what exists today: the per-process array of File values and
// the read-only initramfs. A File is a plain value here (no shared offset), so fork copies
// the slots.
#include "kernel/proc/files.h"

#include "kernel/exec/cpio.h"
#include "lib/errno.h"

namespace lichen::proc {

Result<void> CopyFilesForFork(Process& parent, Process& child) {
  File copy[kMaxFiles];
  {
    LockGuard<SpinLock> guard(parent.lock);
    for (int fd = 0; fd < kMaxFiles; ++fd)
      copy[fd] = parent.files[fd];
  }
  LockGuard<SpinLock> guard(child.lock);
  for (int fd = 0; fd < kMaxFiles; ++fd)
    child.files[fd] = copy[fd];
  return {};
}

void CloseOnExecFiles(Process& p) {
  LockGuard<SpinLock> guard(p.lock);
  for (File& f : p.files) {
    if (f.kind != FileKind::kNone && f.cloexec) f = File{};
  }
}

int64_t FindProgram(Process* caller, const char* path, ProgramImage& out) {
  (void)caller;  // no working directory yet: paths are from the root
  const exec::CpioArchive* archive = Initramfs();
  if (archive == nullptr) return SyscallError(Errno::kNoEnt);
  Result<exec::CpioEntry> entry = archive->Lookup(path);
  // One level of symlink (/init -> /bin/usertest), relative to the root.
  if (entry.ok() && entry.value().IsSymlink())
    entry = archive->Lookup(entry.value().SymlinkTarget());
  if (!entry.ok()) return SyscallError(Errno::kNoEnt);
  if (!entry.value().IsRegular()) return SyscallError(Errno::kAcces);
  out.data = entry.value().data.data();
  out.size = entry.value().data.size();
  out.pin = nullptr;  // the initramfs stays for the machine's lifetime
  return 0;
}

void ReleaseProgram(ProgramImage& image) {
  image = ProgramImage{};
}

}  // namespace lichen::proc
