// Grammar IR (internal): rules whose bodies are expressions over byte sets, sequences,
// alternations, bounded/unbounded repetition and rule references. Every front end
// (JSON Schema, GBNF, regex, tool envelope) builds this IR; lower() turns it into the
// byte-level pushdown automaton used by the matcher.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgeagent/grammar.h"

namespace edgeagent {
namespace detail {

constexpr uint32_t kInf = 0xFFFFFFFFu;

struct ByteSet {
  std::array<uint64_t, 4> w{};
  void set(unsigned b) { w[b >> 6] |= uint64_t(1) << (b & 63); }
  void set_range(unsigned lo, unsigned hi) { for (unsigned b = lo; b <= hi; ++b) set(b); }
  bool test(unsigned b) const { return (w[b >> 6] >> (b & 63)) & 1; }
  bool empty() const { return !(w[0] | w[1] | w[2] | w[3]); }
  void operator|=(const ByteSet& o) { for (int i = 0; i < 4; ++i) w[i] |= o.w[i]; }
  bool operator==(const ByteSet& o) const { return w == o.w; }
  int count() const;
};

// A set of Unicode code points as sorted, disjoint, non-adjacent inclusive ranges.
struct CpSet {
  std::vector<std::pair<uint32_t, uint32_t>> r;
  CpSet() = default;
  static CpSet range(uint32_t lo, uint32_t hi) { CpSet s; s.add(lo, hi); return s; }
  static CpSet single(uint32_t c) { return range(c, c); }
  static CpSet all() { return range(0, 0x10FFFF); }
  void add(uint32_t lo, uint32_t hi);
  void add(const CpSet& o) { for (auto& p : o.r) add(p.first, p.second); }
  CpSet complement() const;  // within [0, 0x10FFFF]
  CpSet minus(const CpSet& o) const;
  CpSet intersect(const CpSet& o) const;
  bool contains(uint32_t c) const;
  bool empty() const { return r.empty(); }
  void normalize();
};

struct Expr {
  enum Kind : uint8_t { Empty, Fail, Bytes, Seq, Alt, Repeat, Ref, Graph };
  Kind kind = Empty;
  uint32_t a = 0;            // Bytes: set index; Repeat: child; Ref: rule
  int32_t gate = -1;         // Ref: gate id or -1
  uint32_t min = 0, max = 0; // Repeat bounds (max == kInf: unbounded)
  std::vector<uint32_t> kids;  // Seq / Alt; Graph: flat (from, to, expr) triples
  std::vector<uint32_t> finals;  // Graph: accepting states (a = state count, min = start)
};

class IrBuilder {
 public:
  explicit IrBuilder(const GrammarLimits& limits) : limits_(limits) {}

  uint32_t empty();
  uint32_t fail();
  uint32_t bytes(const ByteSet& s);
  uint32_t byte_range(unsigned lo, unsigned hi);
  uint32_t literal(std::string_view bytes);
  uint32_t seq(std::vector<uint32_t> kids);
  uint32_t alt(std::vector<uint32_t> kids);
  uint32_t repeat(uint32_t e, uint32_t min, uint32_t max);  // throws GrammarLimitError for huge finite max
  uint32_t star(uint32_t e) { return repeat(e, 0, kInf); }
  uint32_t plus(uint32_t e) { return repeat(e, 1, kInf); }
  uint32_t opt(uint32_t e) { return repeat(e, 0, 1); }
  uint32_t ref(uint32_t rule, int32_t gate = -1);
  // An embedded automaton: n_states states, edges (from, to, expr); matches the paths from
  // start to any final state.
  uint32_t graph(uint32_t n_states, uint32_t start, std::vector<uint32_t> finals,
                 std::vector<uint32_t> edge_triples);
  // One code point of the set, UTF-8 encoded (surrogates excluded).
  uint32_t codepoints(const CpSet& s);

  uint32_t add_rule(std::string name);
  void set_body(uint32_t rule, uint32_t expr);
  uint32_t add_gate(std::string name);

  bool is_fail(uint32_t e) const { return exprs_[e].kind == Expr::Fail; }
  bool is_empty(uint32_t e) const { return exprs_[e].kind == Expr::Empty; }

  const GrammarLimits& limits() const { return limits_; }

  struct Rule {
    std::string name;
    int64_t body = -1;
  };
  std::vector<Expr> exprs_;
  std::vector<ByteSet> sets_;
  std::vector<Rule> rules_;
  std::vector<std::string> gates_;
  // rules shared by all front ends building into this IR (JSON string/number/value...)
  std::unordered_map<std::string, uint32_t> shared_rules_;

 private:
  GrammarLimits limits_;
  uint32_t add(Expr e);
};

// Lowers the IR into an automaton rooted at root_rule. Throws GrammarError for left
// recursion or undefined rules, GrammarLimitError when limits are exceeded.
std::unique_ptr<Automaton> lower(const IrBuilder& ir, uint32_t root_rule);

}  // namespace detail
}  // namespace edgeagent
