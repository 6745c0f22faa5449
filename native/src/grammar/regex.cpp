// Regex subset parser and code-point NFA operations.
#include "regex.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "automaton.h"
#include "utf8.h"

namespace edgeagent {
namespace detail {

namespace {

struct RNode {
  enum Kind : uint8_t { Empty, Cls, Cat, Alt, Rep };
  Kind kind = Empty;
  CpSet set;
  std::vector<uint32_t> kids;
  uint32_t min = 0, max = 0;
};

CpSet digit_set() { return CpSet::range('0', '9'); }
CpSet word_set() {
  CpSet s;
  s.add('a', 'z');
  s.add('A', 'Z');
  s.add('0', '9');
  s.add('_', '_');
  return s;
}
CpSet space_set() {
  CpSet s;
  s.add(0x09, 0x0D);
  s.add(0x20, 0x20);
  s.add(0xA0, 0xA0);
  s.add(0x1680, 0x1680);
  s.add(0x2000, 0x200A);
  s.add(0x2028, 0x2029);
  s.add(0x202F, 0x202F);
  s.add(0x205F, 0x205F);
  s.add(0x3000, 0x3000);
  s.add(0xFEFF, 0xFEFF);
  return s;
}
CpSet dot_set() {
  CpSet s = CpSet::all();
  CpSet lt;
  lt.add('\n', '\n');
  lt.add('\r', '\r');
  lt.add(0x2028, 0x2029);
  return s.minus(lt);
}

class RegexParser {
 public:
  RegexParser(std::string_view p, const GrammarLimits& lim) : s_(p), lim_(lim) {}
  std::vector<RNode> nodes;

  // Returns the root node; anchors are resolved per top-level alternative.
  uint32_t parse(bool search) {
    std::vector<uint32_t> alts;
    while (true) {
      bool a_start = false, a_end = false;
      if (pos_ < s_.size() && s_[pos_] == '^') { a_start = true; ++pos_; }
      uint32_t body = parse_seq(0, &a_end);
      if (search) {
        std::vector<uint32_t> k;
        if (!a_start) k.push_back(any_star());
        k.push_back(body);
        if (!a_end) k.push_back(any_star());
        body = cat(k);
      }
      alts.push_back(body);
      if (pos_ < s_.size() && s_[pos_] == '|') { ++pos_; continue; }
      break;
    }
    if (pos_ < s_.size()) {
      if (s_[pos_] == ')') fail("unmatched ')'");
      fail("unexpected character");
    }
    return alts.size() == 1 ? alts[0] : mk_alt(alts);
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  const GrammarLimits& lim_;

  [[noreturn]] void fail(const std::string& m) { throw RegexError(m, pos_); }
  [[noreturn]] void fail_at(const std::string& m, size_t p) { throw RegexError(m, p); }

  uint32_t add(RNode n) {
    if (nodes.size() > lim_.max_nodes) fail("regex too large");
    nodes.push_back(std::move(n));
    return uint32_t(nodes.size() - 1);
  }
  uint32_t cls(CpSet s) { RNode n; n.kind = RNode::Cls; n.set = std::move(s); return add(n); }
  uint32_t cat(std::vector<uint32_t> k) { RNode n; n.kind = RNode::Cat; n.kids = std::move(k); return add(n); }
  uint32_t mk_alt(std::vector<uint32_t> k) { RNode n; n.kind = RNode::Alt; n.kids = std::move(k); return add(n); }
  uint32_t rep(uint32_t x, uint32_t mn, uint32_t mx) {
    RNode n; n.kind = RNode::Rep; n.kids = {x}; n.min = mn; n.max = mx; return add(n);
  }
  uint32_t any_star() { return rep(cls(CpSet::all()), 0, kInf); }

  uint32_t parse_alt(int depth) {
    std::vector<uint32_t> alts;
    while (true) {
      alts.push_back(parse_seq(depth, nullptr));
      if (pos_ < s_.size() && s_[pos_] == '|') { ++pos_; continue; }
      break;
    }
    return alts.size() == 1 ? alts[0] : mk_alt(alts);
  }

  uint32_t parse_seq(int depth, bool* end_anchor) {
    if (depth > 200) fail("regex nested too deeply");
    std::vector<uint32_t> items;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '|' || c == ')') break;
      if (c == '$') {
        bool at_end = pos_ + 1 == s_.size() || s_[pos_ + 1] == '|';
        if (end_anchor && at_end) { *end_anchor = true; ++pos_; break; }
        fail("anchor '$' is only supported at the end of the pattern");
      }
      if (c == '^') fail("anchor '^' is only supported at the start of the pattern");
      size_t atom_pos = pos_;
      uint32_t atom = parse_atom(depth);
      atom = parse_quant(atom, atom_pos);
      items.push_back(atom);
    }
    if (items.empty()) { RNode n; return add(n); }
    return items.size() == 1 ? items[0] : cat(items);
  }

  uint32_t parse_quant(uint32_t atom, size_t atom_pos) {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      uint32_t mn, mx;
      size_t qpos = pos_;
      if (c == '*') { mn = 0; mx = kInf; ++pos_; }
      else if (c == '+') { mn = 1; mx = kInf; ++pos_; }
      else if (c == '?') { mn = 0; mx = 1; ++pos_; }
      else if (c == '{') {
        size_t save = pos_;
        ++pos_;
        uint64_t a;
        if (!read_int(&a)) { pos_ = save; return atom; }  // literal '{'
        uint64_t b = a;
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          if (pos_ < s_.size() && s_[pos_] == '}') b = kInf;
          else if (!read_int(&b)) { pos_ = save; return atom; }
        }
        if (pos_ >= s_.size() || s_[pos_] != '}') { pos_ = save; return atom; }
        ++pos_;
        if (b != kInf && b < a) fail_at("quantifier {m,n} with n < m", qpos);
        if (a > lim_.max_repetition || (b != kInf && b > lim_.max_repetition))
          throw GrammarLimitError("regex repetition bound exceeds the limit of " +
                                  std::to_string(lim_.max_repetition));
        mn = uint32_t(a);
        mx = b == kInf ? kInf : uint32_t(b);
      } else {
        break;
      }
      if (pos_ < s_.size() && s_[pos_] == '+') fail_at("possessive quantifiers are not supported", pos_);
      if (pos_ < s_.size() && s_[pos_] == '?') ++pos_;  // lazy: same language
      if (nodes[atom].kind == RNode::Empty) fail_at("quantifier without an operand", qpos);
      (void)atom_pos;
      atom = rep(atom, mn, mx);
    }
    return atom;
  }

  bool read_int(uint64_t* out) {
    size_t b = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + uint64_t(s_[pos_] - '0');
      if (v > 0xFFFFFFF0ull) v = 0xFFFFFFF0ull;
      ++pos_;
    }
    *out = v;
    return pos_ > b;
  }

  uint32_t read_cp() {
    uint32_t cp;
    size_t n = utf8::decode(s_.data() + pos_, s_.size() - pos_, &cp);
    if (n == 0) fail("invalid UTF-8 in pattern");
    pos_ += n;
    return cp;
  }

  uint32_t hexn(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= s_.size()) fail("truncated escape");
      char c = s_[pos_];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) fail("invalid hex digit in escape");
      v = v * 16 + uint32_t(d);
      ++pos_;
    }
    return v;
  }

  // After a backslash. in_class: inside [...] (\b = backspace there).
  CpSet parse_escape(bool in_class) {
    size_t at = pos_ - 1;
    if (pos_ >= s_.size()) fail("pattern ends with a backslash");
    char e = s_[pos_++];
    switch (e) {
      case 'd': return digit_set();
      case 'D': return digit_set().complement();
      case 'w': return word_set();
      case 'W': return word_set().complement();
      case 's': return space_set();
      case 'S': return space_set().complement();
      case 't': return CpSet::single('\t');
      case 'n': return CpSet::single('\n');
      case 'r': return CpSet::single('\r');
      case 'f': return CpSet::single('\f');
      case 'v': return CpSet::single('\v');
      case '0':
        if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') fail_at("octal escapes are not supported", at);
        return CpSet::single(0);
      case 'x': return CpSet::single(hexn(2));
      case 'u': {
        if (pos_ < s_.size() && s_[pos_] == '{') {
          ++pos_;
          uint32_t v = 0;
          size_t b = pos_;
          while (pos_ < s_.size() && s_[pos_] != '}') {
            v = v * 16 + hexn(1);
            if (v > 0x10FFFF) fail_at("code point out of range", at);
          }
          if (pos_ >= s_.size() || b == pos_) fail_at("malformed \\u{...} escape", at);
          ++pos_;
          return CpSet::single(v);
        }
        uint32_t v = hexn(4);
        if (v >= 0xD800 && v <= 0xDBFF && pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
          size_t save = pos_;
          pos_ += 2;
          uint32_t lo = hexn(4);
          if (lo >= 0xDC00 && lo <= 0xDFFF) return CpSet::single(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
          pos_ = save;
        }
        if (v >= 0xD800 && v <= 0xDFFF) fail_at("lone surrogate escapes are not supported", at);
        return CpSet::single(v);
      }
      case 'b':
        if (in_class) return CpSet::single('\b');
        fail_at("word boundary '\\b' is not supported", at);
      case 'B': fail_at("word boundary '\\B' is not supported", at);
      case 'k': fail_at("backreference '\\k<...>' is not supported", at);
      case 'p': case 'P': fail_at("Unicode property escapes '\\p{...}' are not supported", at);
      case 'c': fail_at("control escapes '\\cX' are not supported", at);
      default:
        if (e >= '1' && e <= '9') fail_at("backreference '\\" + std::string(1, e) + "' is not supported", at);
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
          fail_at(std::string("unknown escape '\\") + e + "'", at);
        --pos_;
        return CpSet::single(read_cp());
    }
  }

  uint32_t parse_atom(int depth) {
    char c = s_[pos_];
    if (c == '(') {
      size_t gp = pos_;
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '?') {
        ++pos_;
        if (pos_ < s_.size() && s_[pos_] == ':') {
          ++pos_;
        } else if (pos_ < s_.size() && (s_[pos_] == '=' || s_[pos_] == '!')) {
          fail_at("lookahead '(?" + std::string(1, s_[pos_]) + "' is not supported", gp);
        } else if (pos_ + 1 < s_.size() && s_[pos_] == '<' && (s_[pos_ + 1] == '=' || s_[pos_ + 1] == '!')) {
          fail_at("lookbehind '(?<" + std::string(1, s_[pos_ + 1]) + "' is not supported", gp);
        } else if (pos_ < s_.size() && s_[pos_] == '<') {
          while (pos_ < s_.size() && s_[pos_] != '>') ++pos_;  // named group: plain group
          if (pos_ >= s_.size()) fail_at("unterminated group name", gp);
          ++pos_;
        } else {
          fail_at("unsupported group syntax '(?'", gp);
        }
      }
      uint32_t inner = parse_alt(depth + 1);
      if (pos_ >= s_.size() || s_[pos_] != ')') fail_at("unclosed '('", gp);
      ++pos_;
      return inner;
    }
    if (c == '[') return cls(parse_class());
    if (c == '.') { ++pos_; return cls(dot_set()); }
    if (c == '\\') { ++pos_; return cls(parse_escape(false)); }
    if (c == '*' || c == '+' || c == '?') fail("quantifier without an operand");
    return cls(CpSet::single(read_cp()));
  }

  CpSet parse_class() {
    size_t start = pos_;
    ++pos_;
    bool neg = false;
    if (pos_ < s_.size() && s_[pos_] == '^') { neg = true; ++pos_; }
    CpSet set;
    while (true) {
      if (pos_ >= s_.size()) fail_at("unterminated character class", start);
      if (s_[pos_] == ']') { ++pos_; break; }
      CpSet lo_set;
      bool single;
      uint32_t lo = 0;
      if (s_[pos_] == '\\') {
        ++pos_;
        lo_set = parse_escape(true);
      } else {
        lo_set = CpSet::single(read_cp());
      }
      single = lo_set.r.size() == 1 && lo_set.r[0].first == lo_set.r[0].second;
      if (single) lo = lo_set.r[0].first;
      if (single && pos_ + 1 < s_.size() && s_[pos_] == '-' && s_[pos_ + 1] != ']') {
        size_t rp = pos_;
        ++pos_;
        CpSet hi_set;
        if (s_[pos_] == '\\') { ++pos_; hi_set = parse_escape(true); }
        else hi_set = CpSet::single(read_cp());
        if (hi_set.r.size() != 1 || hi_set.r[0].first != hi_set.r[0].second)
          fail_at("character class range with a class escape", rp);
        uint32_t hi = hi_set.r[0].first;
        if (hi < lo) fail_at("character class range out of order", rp);
        set.add(lo, hi);
      } else {
        set.add(lo_set);
      }
    }
    return neg ? set.complement() : set;
  }
};

// Thompson construction with epsilons, then epsilon elimination.
struct ENfa {
  std::vector<std::vector<uint32_t>> eps;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> edges;  // (set index, target)
  std::vector<CpSet> sets;
  size_t max_nodes;
  uint32_t node() {
    if (eps.size() >= max_nodes) throw GrammarLimitError("regex automaton too large");
    eps.emplace_back();
    edges.emplace_back();
    return uint32_t(eps.size() - 1);
  }
};

void build(const std::vector<RNode>& N, uint32_t x, uint32_t s, uint32_t e, ENfa& g, int depth) {
  if (depth > 1000) throw GrammarLimitError("regex nested too deeply");
  const RNode& n = N[x];
  switch (n.kind) {
    case RNode::Empty: g.eps[s].push_back(e); break;
    case RNode::Cls:
      if (!n.set.empty()) {
        g.sets.push_back(n.set);
        g.edges[s].emplace_back(uint32_t(g.sets.size() - 1), e);
      }
      break;
    case RNode::Cat: {
      uint32_t cur = s;
      for (size_t i = 0; i < n.kids.size(); ++i) {
        uint32_t nx = i + 1 == n.kids.size() ? e : g.node();
        build(N, n.kids[i], cur, nx, g, depth + 1);
        cur = nx;
      }
      break;
    }
    case RNode::Alt:
      for (auto k : n.kids) {
        uint32_t a = g.node();
        g.eps[s].push_back(a);
        build(N, k, a, e, g, depth + 1);
      }
      break;
    case RNode::Rep: {
      uint32_t cur = s;
      for (uint32_t i = 0; i < n.min; ++i) {
        uint32_t nx = g.node();
        build(N, n.kids[0], cur, nx, g, depth + 1);
        cur = nx;
      }
      if (n.max == kInf) {
        uint32_t loop = g.node(), be = g.node();
        g.eps[cur].push_back(loop);
        build(N, n.kids[0], loop, be, g, depth + 1);
        g.eps[be].push_back(loop);
        g.eps[loop].push_back(e);
      } else {
        for (uint32_t i = n.min; i < n.max; ++i) {
          g.eps[cur].push_back(e);
          uint32_t nx = i + 1 == n.max ? e : g.node();
          build(N, n.kids[0], cur, nx, g, depth + 1);
          cur = nx;
        }
        if (n.max == n.min) g.eps[cur].push_back(e);
      }
      break;
    }
  }
}

}  // namespace

CpNfa nfa_trim(const CpNfa& a) {
  std::vector<uint8_t> fwd(a.n, 0), bwd(a.n, 0);
  std::vector<std::vector<uint32_t>> out(a.n), in(a.n);
  for (auto& e : a.edges) {
    out[e.from].push_back(e.to);
    in[e.to].push_back(e.from);
  }
  std::vector<uint32_t> st{a.start};
  fwd[a.start] = 1;
  while (!st.empty()) {
    uint32_t x = st.back();
    st.pop_back();
    for (auto y : out[x]) if (!fwd[y]) { fwd[y] = 1; st.push_back(y); }
  }
  for (uint32_t x = 0; x < a.n; ++x) if (a.final[x]) { bwd[x] = 1; st.push_back(x); }
  while (!st.empty()) {
    uint32_t x = st.back();
    st.pop_back();
    for (auto y : in[x]) if (!bwd[y]) { bwd[y] = 1; st.push_back(y); }
  }
  CpNfa r;
  std::vector<uint32_t> id(a.n, UINT32_MAX);
  for (uint32_t x = 0; x < a.n; ++x)
    if (fwd[x] && bwd[x]) id[x] = r.n++;
  if (id[a.start] == UINT32_MAX) {  // empty language
    r.n = 1;
    r.start = 0;
    r.final.assign(1, 0);
    return r;
  }
  r.start = id[a.start];
  r.final.assign(r.n, 0);
  for (uint32_t x = 0; x < a.n; ++x)
    if (id[x] != UINT32_MAX) r.final[id[x]] = a.final[x];
  // merge parallel edges
  std::map<std::pair<uint32_t, uint32_t>, size_t> where;
  for (auto& e : a.edges) {
    if (id[e.from] == UINT32_MAX || id[e.to] == UINT32_MAX || e.set.empty()) continue;
    auto key = std::make_pair(id[e.from], id[e.to]);
    auto it = where.find(key);
    if (it == where.end()) {
      where[key] = r.edges.size();
      r.edges.push_back({key.first, key.second, e.set});
    } else {
      r.edges[it->second].set.add(e.set);
    }
  }
  return r;
}

CpNfa regex_to_nfa(std::string_view pattern, bool search, const GrammarLimits& limits) {
  RegexParser p(pattern, limits);
  uint32_t root = p.parse(search);
  ENfa g;
  g.max_nodes = limits.max_nodes;
  uint32_t s = g.node(), e = g.node();
  build(p.nodes, root, s, e, g, 0);
  // epsilon elimination
  const size_t N = g.eps.size();
  std::vector<int64_t> id(N, -1);
  std::vector<uint32_t> work, order;
  CpNfa r;
  auto get = [&](uint32_t x) -> uint32_t {
    if (id[x] < 0) {
      id[x] = r.n++;
      order.push_back(x);
      work.push_back(x);
    }
    return uint32_t(id[x]);
  };
  r.start = get(s);
  std::vector<uint32_t> stamp(N, 0), stack, clos;
  uint32_t cur = 0;
  std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> raw;  // (from, (set, to))
  std::vector<uint8_t> fin;
  while (!work.empty()) {
    uint32_t x = work.back();
    work.pop_back();
    uint32_t from = uint32_t(id[x]);
    ++cur;
    clos.clear();
    stack.assign(1, x);
    stamp[x] = cur;
    bool f = false;
    while (!stack.empty()) {
      uint32_t y = stack.back();
      stack.pop_back();
      clos.push_back(y);
      if (y == e) f = true;
      for (auto z : g.eps[y]) if (stamp[z] != cur) { stamp[z] = cur; stack.push_back(z); }
    }
    if (fin.size() <= from) fin.resize(from + 1, 0);
    fin[from] = f;
    for (auto y : clos)
      for (auto& ed : g.edges[y]) raw.push_back({from, {ed.first, get(ed.second)}});
    if (raw.size() > limits.max_nodes * 4) throw GrammarLimitError("regex automaton too large");
  }
  r.final.assign(r.n, 0);
  for (size_t i = 0; i < fin.size(); ++i) r.final[i] = fin[i];
  for (auto& x : raw) r.edges.push_back({x.first, x.second.second, g.sets[x.second.first]});
  return nfa_trim(r);
}

CpNfa nfa_intersect(const CpNfa& a, const CpNfa& b, const GrammarLimits& limits) {
  std::vector<std::vector<size_t>> oa(a.n), ob(b.n);
  for (size_t i = 0; i < a.edges.size(); ++i) oa[a.edges[i].from].push_back(i);
  for (size_t i = 0; i < b.edges.size(); ++i) ob[b.edges[i].from].push_back(i);
  std::unordered_map<uint64_t, uint32_t> id;
  std::vector<std::pair<uint32_t, uint32_t>> states;
  CpNfa r;
  auto get = [&](uint32_t p, uint32_t q) {
    uint64_t k = (uint64_t(p) << 32) | q;
    auto it = id.find(k);
    if (it != id.end()) return it->second;
    if (states.size() >= limits.max_nodes) throw GrammarLimitError("pattern/format intersection too large");
    uint32_t n = uint32_t(states.size());
    id[k] = n;
    states.push_back({p, q});
    return n;
  };
  r.start = get(a.start, b.start);
  for (size_t i = 0; i < states.size(); ++i) {
    auto [p, q] = states[i];
    for (auto ea : oa[p])
      for (auto eb : ob[q]) {
        CpSet s = a.edges[ea].set.intersect(b.edges[eb].set);
        if (s.empty()) continue;
        uint32_t t = get(a.edges[ea].to, b.edges[eb].to);
        r.edges.push_back({uint32_t(i), t, std::move(s)});
      }
  }
  r.n = uint32_t(states.size());
  r.final.assign(r.n, 0);
  for (uint32_t i = 0; i < r.n; ++i) r.final[i] = a.final[states[i].first] && b.final[states[i].second];
  return nfa_trim(r);
}

CpNfa nfa_with_length(const CpNfa& a, uint32_t min, uint32_t max, const GrammarLimits& limits) {
  uint32_t cap = max == kInf ? min : max;
  if (uint64_t(a.n) * (uint64_t(cap) + 1) > limits.max_nodes)
    throw GrammarLimitError("string length bounds (" + std::to_string(min) + ".." +
                            (max == kInf ? std::string("inf") : std::to_string(max)) +
                            ") combined with a pattern/format exceed the state limit");
  CpNfa r;
  r.n = a.n * (cap + 1);
  auto sid = [&](uint32_t q, uint32_t k) { return q * (cap + 1) + k; };
  r.start = sid(a.start, 0);
  r.final.assign(r.n, 0);
  for (uint32_t q = 0; q < a.n; ++q)
    for (uint32_t k = 0; k <= cap; ++k)
      r.final[sid(q, k)] = a.final[q] && k >= min && (max == kInf || k <= max);
  for (auto& e : a.edges)
    for (uint32_t k = 0; k <= cap; ++k) {
      uint32_t nk = k + 1;
      if (nk > cap) {
        if (max != kInf) continue;
        nk = cap;
      }
      r.edges.push_back({sid(e.from, k), sid(e.to, nk), e.set});
    }
  return nfa_trim(r);
}

uint32_t nfa_to_ir(IrBuilder& ir, const CpNfa& nfa, const std::function<uint32_t(const CpSet&)>& label) {
  std::vector<uint32_t> finals, triples;
  for (uint32_t i = 0; i < nfa.n; ++i)
    if (nfa.final[i]) finals.push_back(i);
  for (auto& e : nfa.edges) {
    uint32_t x = label(e.set);
    if (ir.is_fail(x)) continue;
    triples.push_back(e.from);
    triples.push_back(e.to);
    triples.push_back(x);
  }
  return ir.graph(nfa.n, nfa.start, finals, triples);
}

const char* format_regex(std::string_view f) {
  // RFC 3339 full-date with per-month day ranges and leap years (Gregorian).
#define EA_DATE                                                                                   \
  "(\\d{4}-(0[13578]|1[02])-(0[1-9]|[12]\\d|3[01])|\\d{4}-(0[469]|11)-(0[1-9]|[12]\\d|30)|\\d{4}-02-" \
  "(0[1-9]|1\\d|2[0-8])|(\\d\\d(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)"
#define EA_TIME                                                                              \
  "([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d+)?([Zz]|[+-]([01]\\d|2[0-3]):[0-5]\\d)"
  if (f == "date") return "^" EA_DATE "$";
  if (f == "time") return "^" EA_TIME "$";
  if (f == "date-time") return "^" EA_DATE "[Tt]" EA_TIME "$";
  if (f == "uuid") return "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
  if (f == "email")
    return "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
           "([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
           "|\\[(\\d{1,3}\\.){3}\\d{1,3}\\])$";
  if (f == "uri")
    return "^[A-Za-z][A-Za-z0-9+.-]*:([A-Za-z0-9\\-._~!$&'()*+,;=:@/?#\\[\\]]|%[0-9A-Fa-f]{2})*$";
#undef EA_DATE
#undef EA_TIME
  return nullptr;
}

}  // namespace detail

std::shared_ptr<const Grammar> Grammar::from_regex(std::string_view pattern, const GrammarLimits& limits) {
  detail::IrBuilder ir(limits);
  detail::CpNfa nfa = detail::regex_to_nfa(pattern, false, limits);
  uint32_t r = ir.add_rule("root");
  ir.set_body(r, detail::nfa_to_ir(ir, nfa, [&](const detail::CpSet& s) { return ir.codepoints(s); }));
  return std::make_shared<Grammar>(detail::lower(ir, r));
}

}  // namespace edgeagent
