// Panic handler of the mm test binaries: print the panic (and the test's panic context) to
// stderr, where death tests match the message, then return, which makes PanicAt() trap and
// kill the (child) process.
#include <atomic>
#include <cstdio>

#include "lib/assert.h"
#include "tests/mm/mm_test_util.h"

namespace {

std::atomic<const char*> g_context{nullptr};

void PrintPanic(const char* file, int line, const char* message) {
  std::fprintf(stderr, "PANIC at %s:%d: %s\n", file, line, message);
  if (const char* context = g_context.load(); context != nullptr) {
    std::fprintf(stderr, "PANIC context: %s\n", context);
  }
  std::fflush(stderr);
}

const bool g_installed = [] {
  lichen::SetPanicHandler(&PrintPanic);
  return true;
}();

}  // namespace

namespace lichen::mm_test {

void SetPanicContext(const char* text) {
  g_context.store(text);
}

}  // namespace lichen::mm_test
