// Future-time obligations (`require` rules) compiled into a DFA by formula progression
// over finite traces (LTLf). The letters are the maximal past-time subformulas, whose
// values the Havelund–Rosu part computes at each event.
//
// A progressed obligation is a Boolean combination of the formula's temporal atoms
// (letters and its X, F, G, U subformulas). We represent it canonically, as the truth
// table of that combination over the atoms, so equal obligations are one state and the
// construction always terminates. Progressing by a letter valuation v substitutes each
// atom by its one-step unfolding (F p -> p' | F p, G p -> p' & G p, p U q -> q' | p' & U,
// X p -> p, letter -> v), evaluated per row. For each state and valuation we record the
// next state and whether the obligation holds if the trace ends right after this event.
// All of it is built at compile time: at run time an event costs one table lookup per
// obligation.
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
constexpr size_t kMaxAtoms = 16;

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
  std::vector<int32_t> atoms;           // term ids of the temporal atoms
  std::map<int32_t, int32_t> atom_of;   // term id -> atom index

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

  void collect_atoms(int32_t t) {
    const Term& term = terms.at(t);
    if (term.op == T::Letter || term.op == T::X || term.op == T::F || term.op == T::G || term.op == T::U) {
      if (atom_of.count(t)) return;
      atom_of[t] = static_cast<int32_t>(atoms.size());
      atoms.push_back(t);
    }
    std::vector<int32_t> kids = term.kids;
    for (int32_t k : kids) collect_atoms(k);
  }

  // Truth of term t at a position where the atoms have the truth values `row`.
  bool eval(int32_t t, uint32_t row) const {
    const Term& term = terms.at(t);
    switch (term.op) {
      case T::True: return true;
      case T::False: return false;
      case T::Not: return !eval(term.kids[0], row);
      case T::And:
        for (int32_t k : term.kids)
          if (!eval(k, row)) return false;
        return true;
      case T::Or:
        for (int32_t k : term.kids)
          if (eval(k, row)) return true;
        return false;
      default: return (row >> atom_of.at(t)) & 1;
    }
  }

  // Truth of t at position i (letters valued by v there) given the atoms' truth `next`
  // at position i + 1: the one-step unfolding.
  bool unfold(int32_t t, uint32_t v, uint32_t next) const {
    const Term& term = terms.at(t);
    switch (term.op) {
      case T::True: return true;
      case T::False: return false;
      case T::Letter: return (v >> term.k) & 1;
      case T::Not: return !unfold(term.kids[0], v, next);
      case T::And:
        for (int32_t k : term.kids)
          if (!unfold(k, v, next)) return false;
        return true;
      case T::Or:
        for (int32_t k : term.kids)
          if (unfold(k, v, next)) return true;
        return false;
      case T::X: return eval(term.kids[0], next);
      case T::F: return unfold(term.kids[0], v, next) || ((next >> atom_of.at(t)) & 1);
      case T::G: return unfold(term.kids[0], v, next) && ((next >> atom_of.at(t)) & 1);
      case T::U:
        return unfold(term.kids[1], v, next) || (unfold(term.kids[0], v, next) && ((next >> atom_of.at(t)) & 1));
    }
    return false;
  }

  // Truth of t at the last position of the trace (letters valued by v).
  bool at_end(int32_t t, uint32_t v) const {
    const Term& term = terms.at(t);
    switch (term.op) {
      case T::True: return true;
      case T::False: return false;
      case T::Letter: return (v >> term.k) & 1;
      case T::Not: return !at_end(term.kids[0], v);
      case T::And:
        for (int32_t k : term.kids)
          if (!at_end(k, v)) return false;
        return true;
      case T::Or:
        for (int32_t k : term.kids)
          if (at_end(k, v)) return true;
        return false;
      case T::X: return false;  // strong next: there is no next event
      case T::F: case T::G: return at_end(term.kids[0], v);
      case T::U: return at_end(term.kids[1], v);
    }
    return false;
  }
};

}  // namespace

void build_dfa(Program& p, int32_t root, int line, int column, const std::string& source) {
  auto too_complex = [&](const std::string& why) {
    throw GuardPolicyError(source, line, column, "obligation too complex to compile (" + why + "); split it into "
                                                 "several rules");
  };
  Terms terms([&] { too_complex("too many subformulas"); });
  Builder b{p, terms, {}, {}, {}, {}};
  int32_t init = b.translate(root);
  if (b.letters.size() > kMaxLetters)
    throw GuardPolicyError(source, line, column,
                           "obligation too large: " + std::to_string(b.letters.size()) +
                               " distinct past-time subformulas (at most 12); split it into several rules");
  b.collect_atoms(init);
  const size_t k = b.atoms.size();
  if (k > kMaxAtoms) too_complex(std::to_string(k) + " temporal subformulas, at most 16");
  const uint32_t n_vals = 1u << b.letters.size();
  const uint32_t n_rows = 1u << k;
  const size_t words = (n_rows + 63) / 64;
  using Table = std::vector<uint64_t>;  // a Boolean function of the atoms, one bit per row
  auto get = [&](const Table& f, uint32_t row) { return (f[row / 64] >> (row % 64)) & 1; };

  Table f0(words, 0);
  for (uint32_t row = 0; row < n_rows; ++row)
    if (b.eval(init, row)) f0[row / 64] |= uint64_t(1) << (row % 64);

  // For each valuation: every row's image (the atoms' truth now, from their truth next)
  // and the atoms' truth at the end.
  std::vector<uint32_t> image(static_cast<size_t>(n_vals) * n_rows);
  std::vector<uint32_t> end_row(n_vals);
  if (static_cast<double>(n_vals) * n_rows * (k + 1) > 1e8) too_complex("too many combinations of subformulas");
  for (uint32_t v = 0; v < n_vals; ++v) {
    uint32_t e = 0;
    for (size_t a = 0; a < k; ++a)
      if (b.at_end(b.atoms[a], v)) e |= 1u << a;
    end_row[v] = e;
    for (uint32_t next = 0; next < n_rows; ++next) {
      uint32_t now = 0;
      for (size_t a = 0; a < k; ++a)
        if (b.unfold(b.atoms[a], v, next)) now |= 1u << a;
      image[static_cast<size_t>(v) * n_rows + next] = now;
    }
  }

  Dfa dfa;
  dfa.letters = b.letters;
  std::map<Table, int32_t> state_of;
  std::vector<Table> tables;
  auto state = [&](Table t) {
    auto it = state_of.find(t);
    if (it != state_of.end()) return it->second;
    if (tables.size() >= kMaxStates) too_complex("more than 2048 automaton states");
    int32_t s = static_cast<int32_t>(tables.size());
    state_of.emplace(t, s);
    tables.push_back(std::move(t));
    return s;
  };
  dfa.init = state(f0);
  double work = 0;
  for (size_t s = 0; s < tables.size(); ++s) {
    dfa.next.resize((s + 1) * n_vals);
    dfa.accept.resize((s + 1) * n_vals);
    work += static_cast<double>(n_vals) * n_rows;
    if (work > 4e8) too_complex("too much work building the automaton");
    for (uint32_t v = 0; v < n_vals; ++v) {
      const Table& f = tables[s];
      Table g(words, 0);
      const uint32_t* img = image.data() + static_cast<size_t>(v) * n_rows;
      for (uint32_t row = 0; row < n_rows; ++row)
        if (get(f, img[row])) g[row / 64] |= uint64_t(1) << (row % 64);
      dfa.accept[s * n_vals + v] = get(tables[s], end_row[v]) ? 1 : 0;
      int32_t ns = state(std::move(g));
      dfa.next[s * n_vals + v] = ns;
    }
  }
  dfa.n_states = static_cast<int32_t>(tables.size());
  p.dfas.push_back(std::move(dfa));
}

}  // namespace guard_detail
}  // namespace edgeagent
