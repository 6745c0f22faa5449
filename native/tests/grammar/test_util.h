// Minimal test harness for the grammar engine tests.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "edgeagent/grammar.h"

namespace eatest {

struct TestCase {
  const char* name;
  std::function<void()> fn;
};

std::vector<TestCase>& registry();
extern int g_checks_failed;  // per test

struct Registrar {
  Registrar(const char* n, std::function<void()> f) { registry().push_back({n, std::move(f)}); }
};

#define EA_CAT2(a, b) a##b
#define EA_CAT(a, b) EA_CAT2(a, b)
#define TEST(name)                                                        \
  static void name();                                                     \
  static ::eatest::Registrar EA_CAT(reg_, name)(#name, name);             \
  static void name()

#define CHECK(cond)                                                                          \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::printf("    CHECK failed %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
      ++::eatest::g_checks_failed;                                                           \
    }                                                                                        \
  } while (0)

#define CHECK_THROWS_AS(expr, T, needle)                                                      \
  do {                                                                                        \
    bool thrown_ = false;                                                                     \
    try {                                                                                     \
      (void)(expr);                                                                           \
    } catch (const T& e_) {                                                                   \
      thrown_ = true;                                                                         \
      if (std::string(e_.what()).find(needle) == std::string::npos) {                         \
        std::printf("    message mismatch %s:%d: '%s' lacks '%s'\n", __FILE__, __LINE__,      \
                    e_.what(), needle);                                                       \
        ++::eatest::g_checks_failed;                                                          \
      }                                                                                       \
    } catch (const std::exception& e_) {                                                      \
      std::printf("    wrong exception %s:%d: %s\n", __FILE__, __LINE__, e_.what());          \
      ++::eatest::g_checks_failed;                                                            \
      thrown_ = true;                                                                         \
    }                                                                                         \
    if (!thrown_) {                                                                           \
      std::printf("    expected exception %s:%d: %s\n", __FILE__, __LINE__, #expr);          \
      ++::eatest::g_checks_failed;                                                            \
    }                                                                                         \
  } while (0)

// accept whole string and be able to terminate
inline bool matches(const std::shared_ptr<const edgeagent::Grammar>& g, const std::string& s) {
  edgeagent::GrammarMatcher m(g);
  return m.accept_bytes(s) && m.can_terminate();
}

// Synthetic vocabulary: all single bytes, some multi-byte tokens, specials, EOS.
std::shared_ptr<const edgeagent::Vocabulary> synthetic_vocab();
// Real vocabulary from a dump file (see tests/grammar/README or test_main.cpp), or null.
std::shared_ptr<const edgeagent::Vocabulary> load_vocab_file(const std::string& path);
extern std::string g_vocab_path;

}  // namespace eatest
