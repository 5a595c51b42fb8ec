// Reference models of the kernel command line helpers (platform/aarch64/cmdline.h), written
// differently on purpose: words split by an explicit loop over std::string, numbers through
// std::from_chars. The property test and the fuzzer compare the kernel's code against them.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lichen::test {

inline bool RefIsSpace(char c) {
  return std::string_view(" \t\n\r\v\f").find(c) != std::string_view::npos;
}

// Every word of the command line, in order.
inline std::vector<std::string> RefWords(std::string_view cmdline) {
  std::vector<std::string> words;
  std::string word;
  for (char c : cmdline) {
    if (RefIsSpace(c)) {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

// The value of the last word `key` or `key=value` before a "--" word; "" for a bare key;
// nullopt if none.
inline std::optional<std::string> RefCmdlineOption(std::string_view cmdline, std::string_view key) {
  std::optional<std::string> found;
  for (const std::string& word : RefWords(cmdline)) {
    if (word == "--") break;
    const size_t eq = word.find('=');
    if (word.substr(0, eq) == key) found = eq == std::string::npos ? "" : word.substr(eq + 1);
  }
  return found;
}

// The words after the first "--" word (init's arguments).
inline std::vector<std::string> RefInitArgs(std::string_view cmdline) {
  const std::vector<std::string> words = RefWords(cmdline);
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--") return std::vector<std::string>(words.begin() + i + 1, words.end());
  }
  return {};
}

// Decimal, or hexadecimal after "0x"/"0X"; the whole text must be the number.
inline std::optional<uint64_t> RefParseUint(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace lichen::test
