// What the files of kernel/proc share and nobody else calls.
#pragma once

#include "kernel/proc/process.h"

namespace lichen::proc {

// Joins the tasks of `p`'s exited threads and drops their references (process.cc).
void ReapDeadThreads(Process* p);

}  // namespace lichen::proc
