// libFuzzer target of the kernel command line helpers (platform/aarch64/cmdline.cc). The input
// is a key, a NUL, then the command line (as /chosen/bootargs, which holds no NUL). Each result
// must equal the reference model's (tests/platform/cmdline_reference.h), and no read may leave
// the input (AddressSanitizer).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "platform/aarch64/cmdline.h"
#include "tests/platform/cmdline_reference.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view cmdline, std::string_view key) {
  std::fprintf(stderr, "cmdline_fuzz: %s (key \"%.*s\", command line \"%.*s\")\n", what,
               static_cast<int>(key.size()), key.data(), static_cast<int>(cmdline.size()),
               cmdline.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  const void* nul = std::memchr(text, 0, size);
  const size_t key_len =
      nul == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(nul) - text);
  const std::string_view key(text, key_len);
  std::string_view cmdline = nul == nullptr
                                 ? std::string_view(text, size)
                                 : std::string_view(text + key_len + 1, size - key_len - 1);
  cmdline = cmdline.substr(0, cmdline.find('\0'));  // a C string ends at its first NUL

  const auto got = lichen::CmdlineOption(cmdline, key);
  const auto want = lichen::test::RefCmdlineOption(cmdline, key);
  if (got.has_value() != want.has_value()) Fail("found/not found differs", cmdline, key);
  if (got) {
    if (*got != *want) Fail("value differs", cmdline, key);
    if (lichen::ParseUint(*got) != lichen::test::RefParseUint(*want))
      Fail("ParseUint of the value differs", cmdline, key);
  }
  if (lichen::ParseUint(cmdline) != lichen::test::RefParseUint(cmdline))
    Fail("ParseUint of the whole line differs", cmdline, key);
  std::string_view words[8];
  const size_t n = lichen::CmdlineInitArgs(cmdline, words, 8);
  const auto want_args = lichen::test::RefInitArgs(cmdline);
  if (n != want_args.size()) Fail("init argument count differs", cmdline, key);
  for (size_t i = 0; i < n && i < 8; ++i) {
    if (words[i] != want_args[i]) Fail("init argument differs", cmdline, key);
  }
  return 0;
}
