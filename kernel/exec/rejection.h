// Why one of the exec parsers (cpio.h, elf.h) refused its input.
#pragma once

#include <cstdint>

namespace lichen::exec {

// Where and why a parser refused its input, for a log line and for tests that must tell one
// rule from another (an Error code alone cannot). `reason` is a static string; `offset` is the
// byte of the input the rule was checking (the start of the entry, header or program header
// at fault).
struct Rejection {
  const char* reason = nullptr;
  uint64_t offset = 0;
};

}  // namespace lichen::exec
