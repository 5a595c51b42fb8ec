#include "lib/assert.h"

#include "lib/atomic.h"

namespace lichen {

namespace {

// The installed handler. Written at boot (or by a test), read by whichever CPU panics:
// release/acquire so a handler installed together with the state it uses is seen whole.
constinit Atomic<PanicHandler> g_panic_handler{nullptr};

}  // namespace

void SetPanicHandler(PanicHandler handler) {
  g_panic_handler.Store(handler, std::memory_order_release);
}

void PanicAt(const char* file, int line, const char* message) {
  const PanicHandler handler = g_panic_handler.Load(std::memory_order_acquire);
  if (handler != nullptr) handler(file, line, message);
  // No handler, or one that returned: stop this CPU where a debugger can see it.
  __builtin_trap();
}

namespace internal {

void AssertFailed(const char* file, int line, const char* condition) {
  char buf[kPanicMessageMax];
  BufferSink sink(buf);
  Format(sink, "assertion failed: {}", condition);
  PanicAt(file, line, sink.c_str());
}

}  // namespace internal

}  // namespace lichen
