// Test runner for the grammar engine.
//   edgeagent_grammar_tests                      unit tests
//   edgeagent_grammar_tests --vocab FILE         + tests on a real vocabulary dump
//   edgeagent_grammar_tests --suite DIR [-v]     JSON-Schema-Test-Suite agreement (draft2020-12 dir)
//   edgeagent_grammar_tests --bench FILE         mask / compile timings on a vocabulary dump
// Vocabulary dump format (text): first line "eos ID [ID...]", then one line per token:
// "KIND HEX" (KIND 0 normal, 1 special/control, 2 unused; HEX the token bytes, "-" if empty).
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "test_util.h"

namespace eatest {

std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
int g_checks_failed = 0;
std::string g_vocab_path;

std::shared_ptr<const edgeagent::Vocabulary> synthetic_vocab() {
  static std::shared_ptr<const edgeagent::Vocabulary> v = [] {
    std::vector<std::string> toks;
    std::vector<edgeagent::TokenKind> kinds;
    for (int b = 0; b < 256; ++b) {
      toks.push_back(std::string(1, char(b)));
      kinds.push_back(edgeagent::TokenKind::Normal);
    }
    const char* multi[] = {"{\"", "\":", "\": ", "\", \"", "\"}", "true", "false", "null", "name", "\"name\": \"",
                           "arguments", "12", "123", " \"", "\n", "<tool_call>", "</tool_call>", "\xC3\xA9",
                           "\"}]", "},{", "ab", "abc", "\"a", "a\"", "\", ", "\\n", "\\u00", "00", "get_weather",
                           "\"get", "_weather", "{\"name\": \"", "\", \"arguments\": {", "city", "Paris", "\"}}",
                           "}}", "\n</tool_call>", "<tool_call>\n", "\xE2\x82", "\xAC", "-1", "0.5", "e+", "1e5",
                           "[1, ", "2]", ", ", ": "};
    for (auto* m : multi) {
      toks.push_back(m);
      kinds.push_back(edgeagent::TokenKind::Normal);
    }
    toks.push_back("<|im_end|>");
    kinds.push_back(edgeagent::TokenKind::Special);
    toks.push_back("<|endoftext|>");
    kinds.push_back(edgeagent::TokenKind::Special);
    toks.push_back("");
    kinds.push_back(edgeagent::TokenKind::Unused);
    toks.push_back("\"");  // a special token that looks like a quote: never allowed
    kinds.push_back(edgeagent::TokenKind::Special);
    int32_t eos = int32_t(toks.size() - 3);  // <|endoftext|>
    return std::make_shared<const edgeagent::Vocabulary>(toks, kinds, std::vector<int32_t>{eos});
  }();
  return v;
}

std::shared_ptr<const edgeagent::Vocabulary> load_vocab_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return nullptr;
  std::string line;
  std::vector<int32_t> eos;
  if (!std::getline(f, line) || line.rfind("eos", 0) != 0) return nullptr;
  {
    std::istringstream is(line.substr(3));
    int32_t x;
    while (is >> x) eos.push_back(x);
  }
  std::vector<std::string> toks;
  std::vector<edgeagent::TokenKind> kinds;
  auto hv = [](char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; };
  while (std::getline(f, line)) {
    size_t sp = line.find(' ');
    int k = std::atoi(line.substr(0, sp).c_str());
    std::string hex = sp == std::string::npos ? "-" : line.substr(sp + 1), bytes;
    if (hex != "-")
      for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += char(hv(hex[i]) * 16 + hv(hex[i + 1]));
    toks.push_back(bytes);
    kinds.push_back(edgeagent::TokenKind(k));
  }
  return std::make_shared<const edgeagent::Vocabulary>(toks, kinds, eos);
}

}  // namespace eatest

int run_suite(const std::string& dir, bool verbose);
int run_bench(const std::string& vocab_path);

int main(int argc, char** argv) {
  std::string suite, bench;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--suite" && i + 1 < argc) suite = argv[++i];
    else if (a == "--bench" && i + 1 < argc) bench = argv[++i];
    else if (a == "--vocab" && i + 1 < argc) eatest::g_vocab_path = argv[++i];
    else if (a == "-v") verbose = true;
  }
  if (!suite.empty()) return run_suite(suite, verbose);
  if (!bench.empty()) return run_bench(bench);
  if (eatest::g_vocab_path.empty())
    if (const char* e = std::getenv("EDGEAGENT_TEST_VOCAB")) eatest::g_vocab_path = e;
  int passed = 0, failed = 0;
  for (auto& t : eatest::registry()) {
    eatest::g_checks_failed = 0;
    try {
      t.fn();
    } catch (const std::exception& e) {
      std::printf("    unexpected exception: %s\n", e.what());
      ++eatest::g_checks_failed;
    }
    if (eatest::g_checks_failed) {
      std::printf("FAIL %s\n", t.name);
      ++failed;
    } else {
      if (verbose) std::printf("ok   %s\n", t.name);
      ++passed;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
