// Lichen's version: the kernel prints it first thing in KernelMain ("lichen: Lichen 0.1.0 on
// 4 CPUs"), and the host demonstration in its banner.
#pragma once

namespace lichen {

extern const char kVersion[];

}  // namespace lichen
