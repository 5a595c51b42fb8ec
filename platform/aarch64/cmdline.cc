#include "platform/aarch64/cmdline.h"

namespace lichen {

namespace {

// Word separators: any ASCII white space, as Linux's parse_args() has it. A loader's bootargs
// may use tabs or end in a newline (a file read into -append), and "ktests\n" must still be
// the word "ktests".
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::optional<std::string_view> CmdlineOption(std::string_view cmdline, std::string_view key) {
  std::optional<std::string_view> found;
  size_t pos = 0;
  while (pos < cmdline.size()) {
    while (pos < cmdline.size() && IsSpace(cmdline[pos]))
      ++pos;
    size_t end = pos;
    while (end < cmdline.size() && !IsSpace(cmdline[end]))
      ++end;
    const std::string_view word = cmdline.substr(pos, end - pos);
    const size_t eq = word.find('=');
    const std::string_view name = word.substr(0, eq);
    if (!word.empty() && name == key) {
      found = eq == std::string_view::npos ? std::string_view() : word.substr(eq + 1);
    }
    pos = end;
  }
  return found;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    if (__builtin_mul_overflow(value, base, &value) ||
        __builtin_add_overflow(value, digit, &value)) {
      return std::nullopt;
    }
  }
  return value;
}

}  // namespace lichen
