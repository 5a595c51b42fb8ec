// Installs a panic handler for the host test binaries that prints the panic to stderr (so
// death tests can match the message) and then returns, which makes PanicAt() trap.
#include <cstdio>

#include "lib/assert.h"

namespace {

void PrintPanic(const char* file, int line, const char* message) {
  std::fprintf(stderr, "PANIC at %s:%d: %s\n", file, line, message);
  std::fflush(stderr);
}

const bool g_installed = [] {
  lichen::SetPanicHandler(&PrintPanic);
  return true;
}();

}  // namespace
