// Grammar IR builder and lowering to the byte-level pushdown automaton.
#include "ir.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "automaton.h"
#include "utf8.h"

namespace edgeagent {
namespace detail {

int ByteSet::count() const {
  int n = 0;
  for (auto x : w) n += __builtin_popcountll(x);
  return n;
}

// ---------------------------------------------------------------- CpSet
void CpSet::add(uint32_t lo, uint32_t hi) {
  if (lo > hi) return;
  r.emplace_back(lo, hi);
  normalize();
}

void CpSet::normalize() {
  std::sort(r.begin(), r.end());
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (auto& p : r) {
    if (!out.empty() && p.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, p.second);
    } else {
      out.push_back(p);
    }
  }
  r.swap(out);
}

CpSet CpSet::complement() const {
  CpSet s;
  uint32_t next = 0;
  for (auto& p : r) {
    if (p.first > next) s.r.emplace_back(next, p.first - 1);
    next = p.second + 1;
  }
  if (next <= 0x10FFFF) s.r.emplace_back(next, 0x10FFFF);
  return s;
}

CpSet CpSet::intersect(const CpSet& o) const {
  CpSet s;
  size_t i = 0, j = 0;
  while (i < r.size() && j < o.r.size()) {
    uint32_t lo = std::max(r[i].first, o.r[j].first), hi = std::min(r[i].second, o.r[j].second);
    if (lo <= hi) s.r.emplace_back(lo, hi);
    if (r[i].second < o.r[j].second) ++i; else ++j;
  }
  return s;
}

CpSet CpSet::minus(const CpSet& o) const { return intersect(o.complement()); }

bool CpSet::contains(uint32_t c) const {
  for (auto& p : r)
    if (c >= p.first && c <= p.second) return true;
  return false;
}

// ---------------------------------------------------------------- builder
uint32_t IrBuilder::add(Expr e) {
  if (exprs_.size() >= limits_.max_nodes * 4)
    throw GrammarLimitError("grammar too large: more than " + std::to_string(limits_.max_nodes * 4) +
                            " expressions");
  exprs_.push_back(std::move(e));
  return uint32_t(exprs_.size() - 1);
}

uint32_t IrBuilder::empty() { Expr e; e.kind = Expr::Empty; return add(e); }
uint32_t IrBuilder::fail() { Expr e; e.kind = Expr::Fail; return add(e); }

uint32_t IrBuilder::bytes(const ByteSet& s) {
  if (s.empty()) return fail();
  sets_.push_back(s);
  Expr e;
  e.kind = Expr::Bytes;
  e.a = uint32_t(sets_.size() - 1);
  return add(e);
}

uint32_t IrBuilder::byte_range(unsigned lo, unsigned hi) {
  ByteSet s;
  s.set_range(lo, hi);
  return bytes(s);
}

uint32_t IrBuilder::literal(std::string_view b) {
  if (b.empty()) return empty();
  std::vector<uint32_t> k;
  for (unsigned char c : b) k.push_back(byte_range(c, c));
  return seq(std::move(k));
}

uint32_t IrBuilder::seq(std::vector<uint32_t> kids) {
  std::vector<uint32_t> k;
  for (auto x : kids) {
    if (exprs_[x].kind == Expr::Fail) return fail();
    if (exprs_[x].kind == Expr::Empty) continue;
    if (exprs_[x].kind == Expr::Seq) {
      for (auto y : exprs_[x].kids) k.push_back(y);
    } else {
      k.push_back(x);
    }
  }
  if (k.empty()) return empty();
  if (k.size() == 1) return k[0];
  Expr e;
  e.kind = Expr::Seq;
  e.kids = std::move(k);
  return add(e);
}

uint32_t IrBuilder::alt(std::vector<uint32_t> kids) {
  std::vector<uint32_t> k;
  for (auto x : kids) {
    if (exprs_[x].kind == Expr::Fail) continue;
    if (exprs_[x].kind == Expr::Alt) {
      for (auto y : exprs_[x].kids) k.push_back(y);
    } else {
      k.push_back(x);
    }
  }
  if (k.empty()) return fail();
  if (k.size() == 1) return k[0];
  Expr e;
  e.kind = Expr::Alt;
  e.kids = std::move(k);
  uint32_t id = add(e);
  if (exprs_[id].kids.size() > 48) {
    // Large alternations live in their own rule so that loops around them stay small
    // after epsilon elimination.
    uint32_t r = add_rule("alt#" + std::to_string(rules_.size()));
    set_body(r, id);
    return ref(r);
  }
  return id;
}

uint32_t IrBuilder::repeat(uint32_t x, uint32_t min, uint32_t max) {
  if (max != kInf && max > limits_.max_repetition)
    throw GrammarLimitError("repetition bound " + std::to_string(max) + " exceeds the limit of " +
                            std::to_string(limits_.max_repetition));
  if (min > limits_.max_repetition)
    throw GrammarLimitError("repetition bound " + std::to_string(min) + " exceeds the limit of " +
                            std::to_string(limits_.max_repetition));
  if (max != kInf && min > max) return fail();
  if (max == 0) return empty();
  if (exprs_[x].kind == Expr::Empty) return empty();
  if (exprs_[x].kind == Expr::Fail) return min == 0 ? empty() : fail();
  if (min == 1 && max == 1) return x;
  Expr e;
  e.kind = Expr::Repeat;
  e.a = x;
  e.min = min;
  e.max = max;
  return add(e);
}

uint32_t IrBuilder::graph(uint32_t n_states, uint32_t start, std::vector<uint32_t> finals,
                          std::vector<uint32_t> edge_triples) {
  if (finals.empty()) return fail();
  Expr e;
  e.kind = Expr::Graph;
  e.a = n_states;
  e.min = start;
  e.finals = std::move(finals);
  e.kids = std::move(edge_triples);
  return add(e);
}

uint32_t IrBuilder::ref(uint32_t rule, int32_t gate) {
  Expr e;
  e.kind = Expr::Ref;
  e.a = rule;
  e.gate = gate;
  return add(e);
}

namespace {
void utf8_seqs(uint32_t lo, uint32_t hi, std::vector<std::vector<std::pair<uint8_t, uint8_t>>>& out) {
  if (lo > hi) return;
  if (lo <= 0xDFFF && hi >= 0xD800) {
    if (lo < 0xD800) utf8_seqs(lo, 0xD7FF, out);
    if (hi > 0xDFFF) utf8_seqs(0xE000, hi, out);
    return;
  }
  static const uint32_t bounds[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  for (uint32_t b : bounds) {
    if (lo <= b && hi > b) {
      utf8_seqs(lo, b, out);
      utf8_seqs(b + 1, hi, out);
      return;
    }
  }
  if (hi < 0x80) {
    out.push_back({{uint8_t(lo), uint8_t(hi)}});
    return;
  }
  int n = hi < 0x800 ? 2 : hi < 0x10000 ? 3 : 4;
  for (int i = 1; i < n; ++i) {
    uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_seqs(lo, lo | m, out);
        utf8_seqs((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_seqs(lo, (hi & ~m) - 1, out);
        utf8_seqs(hi & ~m, hi, out);
        return;
      }
    }
  }
  std::string a, b;
  utf8::append(a, lo);
  utf8::append(b, hi);
  std::vector<std::pair<uint8_t, uint8_t>> s;
  for (size_t i = 0; i < a.size(); ++i) s.emplace_back(uint8_t(a[i]), uint8_t(b[i]));
  out.push_back(s);
}
}  // namespace

uint32_t IrBuilder::codepoints(const CpSet& s) {
  std::vector<std::vector<std::pair<uint8_t, uint8_t>>> seqs;
  for (auto& p : s.r) utf8_seqs(p.first, std::min<uint32_t>(p.second, 0x10FFFF), seqs);
  // merge by first byte range to keep the alternation small: group sequences with equal
  // prefix ranges
  std::vector<uint32_t> alts;
  ByteSet ascii;
  for (auto& sq : seqs) {
    if (sq.size() == 1) {
      ascii.set_range(sq[0].first, sq[0].second);
      continue;
    }
    std::vector<uint32_t> k;
    for (auto& pr : sq) k.push_back(byte_range(pr.first, pr.second));
    alts.push_back(seq(std::move(k)));
  }
  if (!ascii.empty()) alts.insert(alts.begin(), bytes(ascii));
  if (alts.size() > 48) {
    // avoid creating a rule for big classes: group into nested alternations by chunks
    std::vector<uint32_t> groups;
    for (size_t i = 0; i < alts.size(); i += 32) {
      std::vector<uint32_t> g(alts.begin() + long(i), alts.begin() + long(std::min(alts.size(), i + 32)));
      Expr e;
      e.kind = Expr::Alt;
      e.kids = g;
      groups.push_back(add(e));
    }
    Expr e;
    e.kind = Expr::Alt;
    e.kids = groups;
    return add(e);
  }
  return alt(std::move(alts));
}

uint32_t IrBuilder::add_rule(std::string name) {
  if (rules_.size() >= limits_.max_rules)
    throw GrammarLimitError("grammar has more than " + std::to_string(limits_.max_rules) + " rules");
  rules_.push_back({std::move(name), -1});
  return uint32_t(rules_.size() - 1);
}

void IrBuilder::set_body(uint32_t rule, uint32_t expr) { rules_[rule].body = expr; }

uint32_t IrBuilder::add_gate(std::string name) {
  gates_.push_back(std::move(name));
  return uint32_t(gates_.size() - 1);
}

// ---------------------------------------------------------------- lowering
namespace {

struct TNode {
  std::vector<uint32_t> eps;
  std::vector<std::pair<uint32_t, uint32_t>> bytes;  // (set index, target)
  std::vector<std::pair<std::pair<uint32_t, int32_t>, uint32_t>> calls;  // ((rule, gate), target)
};

class Lowerer {
 public:
  explicit Lowerer(const IrBuilder& ir) : ir_(ir) {}

  std::unique_ptr<Automaton> run(uint32_t root);

 private:
  const IrBuilder& ir_;
  std::vector<TNode> t_;

  uint32_t new_node() {
    if (t_.size() >= ir_.limits().max_nodes * 2)
      throw GrammarLimitError("grammar too large: more than " + std::to_string(ir_.limits().max_nodes) +
                              " automaton nodes");
    t_.emplace_back();
    return uint32_t(t_.size() - 1);
  }

  // Builds expr between s and e (fresh nodes in between). Recursion depth is bounded
  // by the expression depth, which front ends keep small.
  void build(uint32_t x, uint32_t s, uint32_t e, int depth) {
    if (depth > 2000) throw GrammarLimitError("grammar expression nested too deeply");
    const Expr& ex = ir_.exprs_[x];
    switch (ex.kind) {
      case Expr::Empty: t_[s].eps.push_back(e); break;
      case Expr::Fail: break;
      case Expr::Bytes: t_[s].bytes.emplace_back(ex.a, e); break;
      case Expr::Ref: t_[s].calls.push_back({{ex.a, ex.gate}, e}); break;
      case Expr::Seq: {
        uint32_t cur = s;
        for (size_t i = 0; i < ex.kids.size(); ++i) {
          uint32_t nxt = i + 1 == ex.kids.size() ? e : new_node();
          build(ex.kids[i], cur, nxt, depth + 1);
          cur = nxt;
        }
        break;
      }
      case Expr::Alt:
        for (auto k : ex.kids) {
          uint32_t a = new_node();
          t_[s].eps.push_back(a);
          build(k, a, e, depth + 1);
        }
        break;
      case Expr::Graph: {
        std::vector<uint32_t> st(ex.a);
        for (auto& x : st) x = new_node();
        t_[s].eps.push_back(st[ex.min]);
        for (auto f : ex.finals) t_[st[f]].eps.push_back(e);
        for (size_t i = 0; i + 2 < ex.kids.size(); i += 3)
          build(ex.kids[i + 2], st[ex.kids[i]], st[ex.kids[i + 1]], depth + 1);
        break;
      }
      case Expr::Repeat: {
        uint32_t cur = s;
        for (uint32_t i = 0; i < ex.min; ++i) {
          uint32_t nxt = new_node();
          build(ex.a, cur, nxt, depth + 1);
          cur = nxt;
        }
        if (ex.max == kInf) {
          uint32_t loop = new_node();
          t_[cur].eps.push_back(loop);
          uint32_t body_end = new_node();
          build(ex.a, loop, body_end, depth + 1);
          t_[body_end].eps.push_back(loop);
          t_[loop].eps.push_back(e);
        } else {
          for (uint32_t i = ex.min; i < ex.max; ++i) {
            t_[cur].eps.push_back(e);
            uint32_t nxt = i + 1 == ex.max ? e : new_node();
            build(ex.a, cur, nxt, depth + 1);
            cur = nxt;
          }
          if (ex.max == ex.min) t_[cur].eps.push_back(e);
        }
        break;
      }
    }
  }
};

// Subset construction per rule over bytes and call symbols (rule, gate): alternatives that
// share prefixes (enums, keys, literals) become one path, so matcher states stay small.
// A rule whose DFA would exceed max(256, 4 x its NFA size) states is kept as an NFA.
struct VecHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t x : v) h = (h ^ x) * 1099511628211ULL;
    return size_t(h);
  }
};

void determinize(Automaton& A) {
  const size_t nr = A.rule_start.size();
  std::vector<std::vector<uint32_t>> rule_nodes(nr);
  for (uint32_t x = 0; x < A.nodes.size(); ++x) rule_nodes[A.nodes[x].rule].push_back(x);
  Automaton out;
  out.rule_start.assign(nr, 0);
  struct DState {
    std::vector<uint32_t> set;
  };
  for (size_t r = 0; r < nr; ++r) {
    const size_t limit = std::max<size_t>(256, rule_nodes[r].size() * 4);
    std::vector<DState> ds;
    std::unordered_map<std::vector<uint32_t>, uint32_t, VecHash> ids;
    std::vector<Node> nn;
    std::vector<std::vector<ByteEdge>> ne;
    std::vector<std::vector<CallEdge>> nc;
    bool ok = true;
    auto get = [&](std::vector<uint32_t>&& set) -> uint32_t {
      std::sort(set.begin(), set.end());
      set.erase(std::unique(set.begin(), set.end()), set.end());
      auto it = ids.find(set);
      if (it != ids.end()) return it->second;
      uint32_t id = uint32_t(ds.size());
      ids.emplace(set, id);
      ds.push_back({std::move(set)});
      return id;
    };
    get(std::vector<uint32_t>{A.rule_start[r]});
    std::vector<uint32_t> pts;
    std::map<std::pair<uint32_t, int32_t>, std::vector<uint32_t>> calls;
    for (size_t i = 0; i < ds.size(); ++i) {
      if (ds.size() > limit) { ok = false; break; }
      const std::vector<uint32_t> set = ds[i].set;
      Node n;
      n.rule = uint32_t(r);
      pts.clear();
      calls.clear();
      for (uint32_t x : set) {
        const Node& o = A.nodes[x];
        n.final = n.final || o.final;
        for (uint32_t e = o.e_begin; e < o.e_end; ++e) {
          pts.push_back(A.edges[e].lo);
          pts.push_back(uint32_t(A.edges[e].hi) + 1);
        }
        for (uint32_t c = o.c_begin; c < o.c_end; ++c)
          calls[{A.calls[c].rule, A.calls[c].gate}].push_back(A.calls[c].ret);
      }
      std::sort(pts.begin(), pts.end());
      pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
      std::vector<ByteEdge> edges;
      for (size_t p = 0; p + 1 < pts.size(); ++p) {
        uint32_t lo = pts[p], hi = pts[p + 1] - 1;
        std::vector<uint32_t> tg;
        for (uint32_t x : set) {
          const Node& o = A.nodes[x];
          for (uint32_t e = o.e_begin; e < o.e_end; ++e)
            if (A.edges[e].lo <= lo && hi <= A.edges[e].hi) tg.push_back(A.edges[e].target);
        }
        if (tg.empty()) continue;
        uint32_t t = get(std::move(tg));
        if (!edges.empty() && edges.back().target == t && uint32_t(edges.back().hi) + 1 == lo) {
          edges.back().hi = uint8_t(hi);
        } else {
          edges.push_back({uint8_t(lo), uint8_t(hi), t});
        }
      }
      std::vector<CallEdge> ce;
      for (auto& kv : calls) {
        std::vector<uint32_t> rets = kv.second;
        ce.push_back({kv.first.first, get(std::move(rets)), kv.first.second});
      }
      nn.push_back(n);
      ne.push_back(std::move(edges));
      nc.push_back(std::move(ce));
    }
    uint32_t base = uint32_t(out.nodes.size());
    if (ok) {
      out.rule_start[r] = base;
      for (size_t i = 0; i < nn.size(); ++i) {
        Node n = nn[i];
        n.e_begin = uint32_t(out.edges.size());
        for (auto e : ne[i]) {
          e.target += base;
          out.edges.push_back(e);
        }
        n.e_end = uint32_t(out.edges.size());
        n.c_begin = uint32_t(out.calls.size());
        for (auto c : nc[i]) {
          c.ret += base;
          out.calls.push_back(c);
        }
        n.c_end = uint32_t(out.calls.size());
        out.nodes.push_back(n);
      }
    } else {
      // keep the NFA nodes of this rule (renumbered)
      std::unordered_map<uint32_t, uint32_t> map;
      for (size_t i = 0; i < rule_nodes[r].size(); ++i) map[rule_nodes[r][i]] = base + uint32_t(i);
      out.rule_start[r] = map[A.rule_start[r]];
      for (uint32_t x : rule_nodes[r]) {
        Node n = A.nodes[x];
        n.e_begin = uint32_t(out.edges.size());
        for (uint32_t e = A.nodes[x].e_begin; e < A.nodes[x].e_end; ++e) {
          ByteEdge be = A.edges[e];
          be.target = map[be.target];
          out.edges.push_back(be);
        }
        n.e_end = uint32_t(out.edges.size());
        n.c_begin = uint32_t(out.calls.size());
        for (uint32_t c = A.nodes[x].c_begin; c < A.nodes[x].c_end; ++c) {
          CallEdge cc = A.calls[c];
          cc.ret = map[cc.ret];
          out.calls.push_back(cc);
        }
        n.c_end = uint32_t(out.calls.size());
        out.nodes.push_back(n);
      }
    }
    if (out.nodes.size() > A.limits.max_nodes)
      throw GrammarLimitError("grammar too large: more than " + std::to_string(A.limits.max_nodes) +
                              " automaton nodes");
  }
  A.nodes.swap(out.nodes);
  A.edges.swap(out.edges);
  A.calls.swap(out.calls);
  A.rule_start.swap(out.rule_start);
}

std::unique_ptr<Automaton> Lowerer::run(uint32_t root) {
  auto A = std::make_unique<Automaton>();
  A->limits = ir_.limits();
  size_t nr = ir_.rules_.size();
  for (size_t r = 0; r < nr; ++r)
    if (ir_.rules_[r].body < 0) throw GrammarError("rule '" + ir_.rules_[r].name + "' is referenced but not defined");
  // rules reachable from the root (others are lowered as empty shells)
  std::vector<uint8_t> reach_rule(nr, 0);
  {
    std::vector<uint8_t> seen(ir_.exprs_.size(), 0);
    std::vector<uint32_t> st;
    reach_rule[root] = 1;
    st.push_back(uint32_t(ir_.rules_[root].body));
    while (!st.empty()) {
      uint32_t x = st.back();
      st.pop_back();
      if (seen[x]) continue;
      seen[x] = 1;
      const Expr& ex = ir_.exprs_[x];
      if (ex.kind == Expr::Ref) {
        if (!reach_rule[ex.a]) {
          reach_rule[ex.a] = 1;
          st.push_back(uint32_t(ir_.rules_[ex.a].body));
        }
      } else if (ex.kind == Expr::Repeat) {
        st.push_back(ex.a);
      } else if (ex.kind == Expr::Graph) {
        for (size_t i = 2; i < ex.kids.size(); i += 3) st.push_back(ex.kids[i]);
      } else {
        for (auto k : ex.kids) st.push_back(k);
      }
    }
  }
  std::vector<uint32_t> rs(nr), re(nr), rbeg(nr), rend(nr);
  for (size_t r = 0; r < nr; ++r) {
    rbeg[r] = uint32_t(t_.size());
    rs[r] = new_node();
    re[r] = new_node();
    if (reach_rule[r]) build(uint32_t(ir_.rules_[r].body), rs[r], re[r], 0);
    rend[r] = uint32_t(t_.size());
  }
  // byte-set ranges
  std::vector<std::vector<std::pair<uint8_t, uint8_t>>> set_ranges(ir_.sets_.size());
  for (size_t i = 0; i < ir_.sets_.size(); ++i) {
    const ByteSet& bs = ir_.sets_[i];
    // word-level scan: find runs of set bits with ctz
    auto next_bit = [&](unsigned from, bool value) -> unsigned {
      while (from < 256) {
        uint64_t w = bs.w[from >> 6];
        if (!value) w = ~w;
        w &= ~uint64_t(0) << (from & 63);
        if (w) return (from & ~63u) + unsigned(__builtin_ctzll(w));
        from = (from & ~63u) + 64;
      }
      return 256;
    };
    unsigned b = next_bit(0, true);
    while (b < 256) {
      unsigned e = next_bit(b, false);
      set_ranges[i].emplace_back(uint8_t(b), uint8_t(e - 1));
      b = e < 256 ? next_bit(e, true) : 256;
    }
  }
  // epsilon elimination
  std::vector<int64_t> out_id(t_.size(), -1);
  std::vector<uint32_t> stamp(t_.size(), 0);
  uint32_t cur_stamp = 0;
  A->rule_start.resize(nr);
  A->rule_names.resize(nr);
  for (size_t r = 0; r < nr; ++r) A->rule_names[r] = ir_.rules_[r].name;
  std::vector<uint32_t> stack, closure;
  for (size_t r = 0; r < nr; ++r) {
    // important nodes of this rule: start + targets of byte/call edges, numbered on demand
    std::vector<uint32_t> work;
    auto get_id = [&](uint32_t tn) -> uint32_t {
      if (out_id[tn] < 0) {
        if (A->nodes.size() >= ir_.limits().max_nodes)
          throw GrammarLimitError("grammar too large: more than " + std::to_string(ir_.limits().max_nodes) +
                                  " automaton nodes");
        out_id[tn] = int64_t(A->nodes.size());
        A->nodes.emplace_back();
        A->nodes.back().rule = uint32_t(r);
        work.push_back(tn);
      }
      return uint32_t(out_id[tn]);
    };
    A->rule_start[r] = get_id(rs[r]);
    while (!work.empty()) {
      uint32_t tn = work.back();
      work.pop_back();
      uint32_t id = uint32_t(out_id[tn]);
      ++cur_stamp;
      closure.clear();
      stack.assign(1, tn);
      stamp[tn] = cur_stamp;
      while (!stack.empty()) {
        uint32_t x = stack.back();
        stack.pop_back();
        closure.push_back(x);
        for (auto y : t_[x].eps)
          if (stamp[y] != cur_stamp) { stamp[y] = cur_stamp; stack.push_back(y); }
      }
      bool fin = false;
      std::vector<ByteEdge> edges;
      std::vector<CallEdge> calls;
      for (auto x : closure) {
        if (x == re[r]) fin = true;
        for (auto& be : t_[x].bytes) {
          uint32_t tgt = get_id(be.second);
          for (auto& pr : set_ranges[be.first]) edges.push_back({pr.first, pr.second, tgt});
        }
        for (auto& ce : t_[x].calls) {
          uint32_t tgt = get_id(ce.second);
          calls.push_back({ce.first.first, tgt, ce.first.second});
        }
      }
      std::sort(edges.begin(), edges.end(), [](const ByteEdge& a, const ByteEdge& b) {
        return std::tie(a.lo, a.hi, a.target) < std::tie(b.lo, b.hi, b.target);
      });
      edges.erase(std::unique(edges.begin(), edges.end(),
                              [](const ByteEdge& a, const ByteEdge& b) {
                                return a.lo == b.lo && a.hi == b.hi && a.target == b.target;
                              }),
                  edges.end());
      std::sort(calls.begin(), calls.end(), [](const CallEdge& a, const CallEdge& b) {
        return std::tie(a.rule, a.ret, a.gate) < std::tie(b.rule, b.ret, b.gate);
      });
      calls.erase(std::unique(calls.begin(), calls.end(),
                              [](const CallEdge& a, const CallEdge& b) {
                                return a.rule == b.rule && a.ret == b.ret && a.gate == b.gate;
                              }),
                  calls.end());
      Node& n = A->nodes[id];
      n.final = fin;
      n.e_begin = uint32_t(A->edges.size());
      A->edges.insert(A->edges.end(), edges.begin(), edges.end());
      n.e_end = uint32_t(A->edges.size());
      n.c_begin = uint32_t(A->calls.size());
      A->calls.insert(A->calls.end(), calls.begin(), calls.end());
      n.c_end = uint32_t(A->calls.size());
    }
  }
  t_.clear();
  t_.shrink_to_fit();
  determinize(*A);
  // ---- liveness: drop edges into nodes that cannot reach the end of their rule and
  // calls into rules that derive no finite string (e.g. recursion without a base case)
  {
    const size_t N0 = A->nodes.size();
    std::vector<uint8_t> live(N0, 0);
    std::vector<uint32_t> call_owner(A->calls.size());
    std::vector<std::vector<uint32_t>> bpred(N0), cdep(N0);
    for (uint32_t x = 0; x < N0; ++x) {
      const Node& n = A->nodes[x];
      for (uint32_t e = n.e_begin; e < n.e_end; ++e) bpred[A->edges[e].target].push_back(x);
      for (uint32_t c = n.c_begin; c < n.c_end; ++c) {
        call_owner[c] = x;
        cdep[A->calls[c].ret].push_back(c);
        cdep[A->rule_start[A->calls[c].rule]].push_back(c);
      }
    }
    std::vector<uint32_t> wl;
    for (uint32_t x = 0; x < N0; ++x)
      if (A->nodes[x].final) { live[x] = 1; wl.push_back(x); }
    while (!wl.empty()) {
      uint32_t x = wl.back();
      wl.pop_back();
      for (auto p : bpred[x])
        if (!live[p]) { live[p] = 1; wl.push_back(p); }
      for (auto c : cdep[x]) {
        uint32_t p = call_owner[c];
        if (!live[p] && live[A->calls[c].ret] && live[A->rule_start[A->calls[c].rule]]) {
          live[p] = 1;
          wl.push_back(p);
        }
      }
    }
    std::vector<ByteEdge> ne;
    std::vector<CallEdge> nc;
    for (uint32_t x = 0; x < N0; ++x) {
      Node& n = A->nodes[x];
      uint32_t eb = uint32_t(ne.size()), cb = uint32_t(nc.size());
      for (uint32_t e = n.e_begin; e < n.e_end; ++e)
        if (live[A->edges[e].target]) ne.push_back(A->edges[e]);
      for (uint32_t c = n.c_begin; c < n.c_end; ++c)
        if (live[A->calls[c].ret] && live[A->rule_start[A->calls[c].rule]]) nc.push_back(A->calls[c]);
      n.e_begin = eb;
      n.e_end = uint32_t(ne.size());
      n.c_begin = cb;
      n.c_end = uint32_t(nc.size());
    }
    A->edges.swap(ne);
    A->calls.swap(nc);
    A->root_productive = live[A->rule_start[root]] != 0;
  }
  for (auto& n : A->nodes) n.pure_final = n.final && n.e_begin == n.e_end && n.c_begin == n.c_end;
  A->root_rule = root;
  A->root_node = A->rule_start[root];
  A->gate_names = ir_.gates_;

  // ---- nullable rules (fixpoint)
  const size_t NN = A->nodes.size();
  std::vector<uint8_t> nullable(nr, 0);
  // nodes reachable from node x without consuming bytes (via nullable calls' returns)
  auto null_reach = [&](uint32_t start, std::vector<uint32_t>& out, std::vector<uint32_t>& mark, uint32_t m) {
    out.clear();
    out.push_back(start);
    mark[start] = m;
    for (size_t i = 0; i < out.size(); ++i) {
      const Node& n = A->nodes[out[i]];
      for (uint32_t c = n.c_begin; c < n.c_end; ++c) {
        const CallEdge& ce = A->calls[c];
        if (nullable[ce.rule] && mark[ce.ret] != m) { mark[ce.ret] = m; out.push_back(ce.ret); }
      }
    }
  };
  std::vector<uint32_t> mark(NN, 0), reach;
  uint32_t mk = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t r = 0; r < nr; ++r) {
      if (nullable[r]) continue;
      null_reach(A->rule_start[r], reach, mark, ++mk);
      for (auto x : reach)
        if (A->nodes[x].final) { nullable[r] = 1; changed = true; break; }
    }
  }
  // ---- left recursion: rule graph of calls made before any byte
  std::vector<std::vector<uint32_t>> left(nr);
  for (size_t r = 0; r < nr; ++r) {
    null_reach(A->rule_start[r], reach, mark, ++mk);
    for (auto x : reach) {
      const Node& n = A->nodes[x];
      for (uint32_t c = n.c_begin; c < n.c_end; ++c) left[r].push_back(A->calls[c].rule);
    }
    std::sort(left[r].begin(), left[r].end());
    left[r].erase(std::unique(left[r].begin(), left[r].end()), left[r].end());
  }
  {
    std::vector<uint8_t> color(nr, 0);  // 0 white, 1 grey, 2 black
    std::vector<std::pair<uint32_t, size_t>> st;
    for (size_t r0 = 0; r0 < nr; ++r0) {
      if (color[r0]) continue;
      st.push_back({uint32_t(r0), 0});
      color[r0] = 1;
      while (!st.empty()) {
        auto& top = st.back();
        if (top.second < left[top.first].size()) {
          uint32_t nx = left[top.first][top.second++];
          if (color[nx] == 1)
            throw GrammarError("left recursion through rule '" + A->rule_names[nx] +
                               "' (a rule reaches itself without consuming input)");
          if (color[nx] == 0) { color[nx] = 1; st.push_back({nx, 0}); }
        } else {
          color[top.first] = 2;
          st.pop_back();
        }
      }
    }
  }
  // ---- FIRST per rule and FOLLOW per rule (fixpoint)
  std::vector<ByteSet> first(nr);
  auto first_of_node = [&](uint32_t x, ByteSet& out, bool& can_end) {
    null_reach(x, reach, mark, ++mk);
    can_end = false;
    for (auto y : reach) {
      const Node& n = A->nodes[y];
      if (n.final) can_end = true;
      for (uint32_t e = n.e_begin; e < n.e_end; ++e) out.set_range(A->edges[e].lo, A->edges[e].hi);
      for (uint32_t c = n.c_begin; c < n.c_end; ++c) out |= first[A->calls[c].rule];
    }
  };
  changed = true;
  while (changed) {
    changed = false;
    for (size_t r = 0; r < nr; ++r) {
      ByteSet f = first[r];
      bool ce;
      first_of_node(A->rule_start[r], f, ce);
      if (!(f == first[r])) { first[r] = f; changed = true; }
    }
  }
  A->follow.assign(nr, ByteSet());
  // per call edge: FIRST(ret) and whether ret can end the caller's rule
  struct CallInfo { uint32_t callee, caller; ByteSet f; bool ends; };
  std::vector<CallInfo> infos;
  for (uint32_t x = 0; x < NN; ++x) {
    const Node& n = A->nodes[x];
    for (uint32_t c = n.c_begin; c < n.c_end; ++c) {
      CallInfo ci;
      ci.callee = A->calls[c].rule;
      ci.caller = n.rule;
      first_of_node(A->calls[c].ret, ci.f, ci.ends);
      infos.push_back(ci);
    }
  }
  changed = true;
  while (changed) {
    changed = false;
    for (auto& ci : infos) {
      ByteSet f = A->follow[ci.callee];
      f |= ci.f;
      if (ci.ends) f |= A->follow[ci.caller];
      if (!(f == A->follow[ci.callee])) { A->follow[ci.callee] = f; changed = true; }
    }
  }
  return A;
}

}  // namespace

std::unique_ptr<Automaton> lower(const IrBuilder& ir, uint32_t root_rule) {
  Lowerer l(ir);
  return l.run(root_rule);
}

}  // namespace detail
}  // namespace edgeagent
