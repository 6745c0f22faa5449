// Future-time obligations (`require` rules) compiled into a DFA by formula progression
// over finite traces (LTLf). The letters are the maximal past-time subformulas, whose
// values the Havelund–Rosu part computes at each event. A state is a progressed formula
// (hash-consed, And/Or flattened, sorted and deduplicated, so that the reachable set
// stays small); for each state and letter valuation we record the next state and
// whether the obligation holds if the trace ends right after this event. All of it is
// built at compile time: at run time an event costs one table lookup per obligation.
#include <algorithm>
#include <functional>
#include <map>

#include "program.h"

namespace edgeagent {
namespace guard_detail {

namespace {

constexpr size_t kMaxLetters = 12;
constexpr size_t kMaxStates = 2048;
constexpr size_t kMaxTerms = 200000;

enum class T : uint8_t { True, False, Letter, Not, And, Or, X, F, G, U };

struct Term {
  T op;
  int32_t k = -1;               // Letter: index
  std::vector<int32_t> kids;    // Not/X/F/G: 1, U: 2 (a U b), And/Or: n (sorted, unique)
  bool operator<(const Term& o) const {
    if (op != o.op) return op < o.op;
    if (k != o.k) return k < o.k;
    return kids < o.kids;
  }
};

class Terms {
 public:
  explicit Terms(const std::function<void()>& too_big) : too_big_(too_big) {
    t_true = intern({T::True, -1, {}});
    t_false = intern({T::False, -1, {}});
  }
  int32_t t_true, t_false;

  const Term& at(int32_t i) const { return terms_[i]; }

  int32_t intern(Term t) {
    auto it = ids_.find(t);
    if (it != ids_.end()) return it->second;
    if (terms_.size() >= kMaxTerms) too_big_();
    int32_t id = static_cast<int32_t>(terms_.size());
    terms_.push_back(t);
    ids_.emplace(std::move(t), id);
    return id;
  }
  int32_t letter(int32_t k) { return intern({T::Letter, k, {}}); }
  int32_t unary(T op, int32_t a) {
    if (op == T::Not) {
      if (a == t_true) return t_false;
      if (a == t_false) return t_true;
      if (terms_[a].op == T::Not) return terms_[a].kids[0];
    }
    return intern({op, -1, {a}});
  }
  int32_t until(int32_t a, int32_t b) { return intern({T::U, -1, {a, b}}); }
  int32_t junction(T op, std::vector<int32_t> kids) {
    const bool is_and = op == T::And;
    const int32_t unit = is_and ? t_true : t_false, zero = is_and ? t_false : t_true;
    std::vector<int32_t> flat;
    for (int32_t k : kids) {
      if (k == unit) continue;
      if (k == zero) return zero;
      if (terms_[k].op == op) flat.insert(flat.end(), terms_[k].kids.begin(), terms_[k].kids.end());
      else flat.push_back(k);
    }
    std::sort(flat.begin(), flat.end());
    flat.erase(std::unique(flat.begin(), flat.end()), flat.end());
    for (int32_t k : flat) {  // x and !x
      if (terms_[k].op == T::Not && std::binary_search(flat.begin(), flat.end(), terms_[k].kids[0])) return zero;
    }
    if (flat.empty()) return unit;
    if (flat.size() == 1) return flat[0];
    return intern({op, -1, std::move(flat)});
  }

 private:
  std::vector<Term> terms_;
  std::map<Term, int32_t> ids_;
  std::function<void()> too_big_;
};

struct Builder {
  Program& p;
  Terms& terms;
  std::vector<int32_t> letters;  // node ids
  std::map<int32_t, int32_t> letter_of_node;

  int32_t translate(int32_t n) {
    const Node& node = p.nodes[n];
    if (!node.future) {
      auto it = letter_of_node.find(n);
      if (it != letter_of_node.end()) return terms.letter(it->second);
      int32_t k = static_cast<int32_t>(letters.size());
      letters.push_back(n);
      letter_of_node[n] = k;
      return terms.letter(k);
    }
    switch (node.op) {
      case Op::Not: return terms.unary(T::Not, translate(node.a));
      case Op::And: return terms.junction(T::And, {translate(node.a), translate(node.b)});
      case Op::Or: return terms.junction(T::Or, {translate(node.a), translate(node.b)});
      case Op::X: return terms.unary(T::X, translate(node.a));
      case Op::F: return terms.unary(T::F, translate(node.a));
      case Op::G: return terms.unary(T::G, translate(node.a));
      case Op::U: return terms.until(translate(node.a), translate(node.b));
      default: break;  // past operators never contain future ones (checked by the parser)
    }
    return terms.t_false;
  }

  // The obligation on the rest of the trace after an event with valuation `v`.
  int32_t progress(int32_t t, uint32_t v, std::map<int32_t, int32_t>& memo) {
    auto it = memo.find(t);
    if (it != memo.end()) return it->second;
    const Term term = terms.at(t);  // copy: intern() may grow the store
    int32_t r = t;
    switch (term.op) {
      case T::True: case T::False: r = t; break;
      case T::Letter: r = (v >> term.k) & 1 ? terms.t_true : terms.t_false; break;
      case T::Not: r = terms.unary(T::Not, progress(term.kids[0], v, memo)); break;
      case T::And: case T::Or: {
        std::vector<int32_t> kids;
        for (int32_t k : term.kids) kids.push_back(progress(k, v, memo));
        r = terms.junction(term.op, kids);
        break;
      }
      case T::X: r = term.kids[0]; break;
      case T::F: r = terms.junction(T::Or, {progress(term.kids[0], v, memo), t}); break;
      case T::G: r = terms.junction(T::And, {progress(term.kids[0], v, memo), t}); break;
      case T::U:
        r = terms.junction(T::Or, {progress(term.kids[1], v, memo),
                                   terms.junction(T::And, {progress(term.kids[0], v, memo), t})});
        break;
    }
    memo[t] = r;
    return r;
  }

  // Whether the obligation holds at the last event of the trace (valuation `v`).
  bool holds_at_end(int32_t t, uint32_t v) {
    const Term& term = terms.at(t);
    switch (term.op) {
      case T::True: return true;
      case T::False: return false;
      case T::Letter: return (v >> term.k) & 1;
      case T::Not: return !holds_at_end(term.kids[0], v);
      case T::And:
        for (int32_t k : term.kids)
          if (!holds_at_end(k, v)) return false;
        return true;
      case T::Or:
        for (int32_t k : term.kids)
          if (holds_at_end(k, v)) return true;
        return false;
      case T::X: return false;  // strong next: there is no next event
      case T::F: case T::G: return holds_at_end(term.kids[0], v);
      case T::U: return holds_at_end(term.kids[1], v);
    }
    return false;
  }
};

}  // namespace

void build_dfa(Program& p, int32_t root, int line, int column, const std::string& source) {
  Terms terms([&] {
    throw GuardPolicyError(source, line, column, "obligation too complex to compile (too many formula states)");
  });
  Builder b{p, terms, {}, {}};
  int32_t init = b.translate(root);
  if (b.letters.size() > kMaxLetters)
    throw GuardPolicyError(source, line, column,
                           "obligation too large: " + std::to_string(b.letters.size()) +
                               " distinct past-time subformulas (at most 12); split it into several rules");
  Dfa dfa;
  dfa.letters = b.letters;
  const uint32_t n_vals = 1u << b.letters.size();
  std::map<int32_t, int32_t> state_of_term;
  std::vector<int32_t> term_of_state;
  auto state = [&](int32_t t) {
    auto it = state_of_term.find(t);
    if (it != state_of_term.end()) return it->second;
    if (term_of_state.size() >= kMaxStates)
      throw GuardPolicyError(source, line, column, "obligation too complex: more than 2048 automaton states");
    int32_t s = static_cast<int32_t>(term_of_state.size());
    state_of_term[t] = s;
    term_of_state.push_back(t);
    return s;
  };
  dfa.init = state(init);
  for (size_t s = 0; s < term_of_state.size(); ++s) {
    int32_t t = term_of_state[s];
    dfa.next.resize((s + 1) * n_vals);
    dfa.accept.resize((s + 1) * n_vals);
    for (uint32_t v = 0; v < n_vals; ++v) {
      std::map<int32_t, int32_t> memo;
      int32_t nt = b.progress(t, v, memo);
      dfa.accept[s * n_vals + v] = b.holds_at_end(t, v) ? 1 : 0;
      int32_t ns = state(nt);
      dfa.next[s * n_vals + v] = ns;
    }
  }
  dfa.n_states = static_cast<int32_t>(term_of_state.size());
  p.dfas.push_back(std::move(dfa));
}

}  // namespace guard_detail
}  // namespace edgeagent
