// The compiled form of a guard policy (internal): a formula DAG whose nodes are in
// bottom-up order (every child has a smaller index than its parent), the atoms the
// nodes test, and one DFA per future-time obligation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeagent/guard.h"
#include "edgeagent/json.h"
#include "regex_matcher.h"

namespace edgeagent {
namespace guard_detail {

enum class Op : uint8_t { True, False, Atom, Not, And, Or, Y, O, H, S, Count, X, F, G, U };
enum class Cmp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
enum class PredOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, Matches, Under };

const char* pred_op_name(PredOp op);

// `path op literal` inside call(...), result(...) or an event's (text ...) test.
struct Pred {
  std::vector<std::string> path;  // call: argument path; result: "value" or a field path; else "text"
  PredOp op = PredOp::Eq;
  Json literal;                   // scalar, or an array for `in`
  double number = 0;              // the literal as a number (comparisons)
  int32_t regex = -1;             // index into Program::regexes for `matches`
  std::vector<std::string> prefix;  // `under`: the normalized components of the prefix
  bool prefix_absolute = false;
};

enum class AtomKind : uint8_t { User, Call, Result, Text, Final, Custom, SameCall };

struct Atom {
  AtomKind kind = AtomKind::User;
  int32_t custom = -1;             // Custom: index into Program::customs
  bool any_tool = true;            // Call/Result: `*` or no selector
  std::vector<std::string> tools;  // otherwise the tool names (sorted, unique)
  std::vector<Pred> preds;         // all must hold
  bool has_tool(std::string_view name) const;
};

struct Node {
  Op op = Op::True;
  int32_t a = -1, b = -1;  // children (S, U: a S b / a U b; Count: count(a) since b)
  int32_t atom = -1;
  Cmp cmp = Cmp::Le;       // Count
  int64_t bound = 0;       // Count
  int32_t counter = -1;    // Count: index of its counter
  bool future = false;     // contains X, F, G or U
  int line = 0, column = 0;
};

// Future obligation compiled by progression: states x 2^letters table.
struct Dfa {
  std::vector<int32_t> letters;  // node ids of the maximal past-time subformulas
  int32_t init = 0;
  int32_t n_states = 0;
  std::vector<int32_t> next;     // [state << letters.size() | valuation]
  std::vector<uint8_t> accept;   // the obligation holds if the trace ends right after this event
};

struct RuleCode {
  int32_t cond = -1;  // node whose truth at an event fires the rule (`when` rules)
  int32_t dfa = -1;   // index into Program::dfas (`require` rules)
};

struct Program {
  std::vector<Node> nodes;
  std::vector<Atom> atoms;
  std::vector<GuardRuleInfo> rules;
  std::vector<RuleCode> code;
  std::vector<Dfa> dfas;
  std::vector<std::string> customs;
  std::vector<RegexMatcher> regexes;
  int32_t n_counters = 0;
  size_t max_regex_states = 0;
  int32_t custom_index(std::string_view name) const;
};

// Parses and compiles (GuardPolicy::parse does this and wraps the result).
std::unique_ptr<Program> compile_policy(std::string_view text, const std::string& source,
                                        const std::vector<GuardToolInfo>* tools);

}  // namespace guard_detail
}  // namespace edgeagent
