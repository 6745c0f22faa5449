// Stepping engine, mask caches, CompiledGrammar and GrammarMatcher.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <sstream>
#include <string_view>

#include "automaton.h"
#include "edgeagent/grammar.h"
#include "mask.h"

namespace edgeagent {

// ---------------------------------------------------------------- errors
SchemaError::SchemaError(const std::string& msg, std::string keyword, std::string pointer)
    : GrammarError(msg), keyword_(std::move(keyword)), pointer_(std::move(pointer)) {}

EbnfParseError::EbnfParseError(const std::string& msg, int l, int c)
    : GrammarError("GBNF error at line " + std::to_string(l) + ", column " + std::to_string(c) + ": " + msg),
      line(l),
      column(c) {}

RegexError::RegexError(const std::string& msg, size_t pos)
    : GrammarError("regex error at position " + std::to_string(pos) + ": " + msg), position(pos) {}

namespace detail {

// ---------------------------------------------------------------- Gss
static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

void Gss::clear() {
  frames_.assign(1, Frame{0, 0, 0});
  table_.assign(1024, 0);
}

void Gss::rehash() {
  std::vector<uint32_t> t(table_.size() * 2, 0);
  size_t mask = t.size() - 1;
  for (uint32_t i = 1; i < frames_.size(); ++i) {
    size_t h = mix64((uint64_t(frames_[i].ret) << 32) | frames_[i].parent) & mask;
    while (t[h]) h = (h + 1) & mask;
    t[h] = i;
  }
  table_.swap(t);
}

uint32_t Gss::intern(uint32_t ret, uint32_t parent) {
  size_t mask = table_.size() - 1;
  size_t h = mix64((uint64_t(ret) << 32) | parent) & mask;
  while (table_[h]) {
    const Frame& f = frames_[table_[h]];
    if (f.ret == ret && f.parent == parent) return table_[h];
    h = (h + 1) & mask;
  }
  frames_.push_back(Frame{ret, parent, frames_[parent].depth + 1});
  uint32_t id = uint32_t(frames_.size() - 1);
  table_[h] = id;
  if (frames_.size() * 2 > table_.size()) rehash();
  return id;
}

// ---------------------------------------------------------------- Engine
void Engine::begin_set() {
  ++cur_gen_;
  if (cur_gen_ == 0) {
    std::fill(gen_.begin(), gen_.end(), 0);
    cur_gen_ = 1;
  }
  count_ = 0;
  if (gen_.empty()) {
    keys_.assign(256, 0);
    vals_.assign(256, 0);
    gen_.assign(256, 0);
  }
}

void Engine::grow(const std::vector<Config>& v) {
  size_t cap = gen_.size() * 2;
  keys_.assign(cap, 0);
  vals_.assign(cap, 0);
  gen_.assign(cap, 0);
  cur_gen_ = 1;
  size_t mask = cap - 1;
  for (uint32_t i = 0; i < v.size(); ++i) {
    uint64_t k = (uint64_t(v[i].node) << 32) | v[i].stack;
    size_t h = mix64(k) & mask;
    while (gen_[h] == cur_gen_) h = (h + 1) & mask;
    gen_[h] = cur_gen_;
    keys_[h] = k;
    vals_[h] = i;
  }
}

bool Engine::insert(std::vector<Config>& v, std::vector<uint8_t>& kernel, Config c, bool is_kernel) {
  uint64_t k = (uint64_t(c.node) << 32) | c.stack;
  size_t mask = gen_.size() - 1;
  size_t h = mix64(k) & mask;
  while (gen_[h] == cur_gen_) {
    if (keys_[h] == k) {
      if (is_kernel) kernel[vals_[h]] = 1;
      return false;
    }
    h = (h + 1) & mask;
  }
  if (v.size() >= a_->limits.max_matcher_configs)
    throw GrammarLimitError("matcher state exceeds " + std::to_string(a_->limits.max_matcher_configs) +
                            " configurations (grammar too ambiguous)");
  gen_[h] = cur_gen_;
  keys_[h] = k;
  vals_[h] = uint32_t(v.size());
  v.push_back(c);
  kernel.push_back(is_kernel ? 1 : 0);
  ++count_;
  if (count_ * 2 > gen_.size()) grow(v);
  return true;
}

void Engine::seed(std::vector<Config>& v, std::vector<uint8_t>& kernel, Config c, bool is_kernel) {
  insert(v, kernel, c, is_kernel);
}

void Engine::closure(std::vector<Config>& v, std::vector<uint8_t>& kernel, ClosureInfo* info) {
  const Automaton& A = *a_;
  const bool local = gates_ == nullptr;
  for (size_t i = 0; i < v.size(); ++i) {
    Config c = v[i];
    const Node& n = A.nodes[c.node];
    if (n.final) {
      if (c.stack != 0) {
        const Frame& f = (*gss_)[c.stack];
        insert(v, kernel, Config{f.ret, f.parent}, true);
      } else if (local && info) {
        info->escaped_pop = true;
        info->escape_follow |= A.follow[n.rule];
      }
    }
    for (uint32_t e = n.c_begin; e < n.c_end; ++e) {
      const CallEdge& ce = A.calls[e];
      if (ce.gate >= 0) {
        if (local) {
          if (info) info->escaped_gate = true;
          continue;
        }
        if (!(((*gates_)[size_t(ce.gate) >> 6] >> (ce.gate & 63)) & 1)) continue;
      }
      uint32_t st = c.stack;
      if (!A.nodes[ce.ret].pure_final) {
        if ((*gss_)[c.stack].depth >= A.limits.max_stack_depth) continue;
        st = gss_->intern(ce.ret, c.stack);
      }
      insert(v, kernel, Config{A.rule_start[ce.rule], st}, false);
    }
  }
}

bool Engine::step(const std::vector<Config>& in, uint8_t b, std::vector<Config>& out,
                  std::vector<uint8_t>& out_kernel, ClosureInfo* info) {
  const Automaton& A = *a_;
  begin_set();
  out.clear();
  out_kernel.clear();
  for (const Config& c : in) {
    const Node& n = A.nodes[c.node];
    for (uint32_t e = n.e_begin; e < n.e_end; ++e) {
      const ByteEdge& be = A.edges[e];
      if (be.lo > b) break;
      if (b <= be.hi) insert(out, out_kernel, Config{be.target, c.stack}, true);
    }
  }
  if (out.empty()) return false;
  closure(out, out_kernel, info);
  return true;
}

// ---------------------------------------------------------------- mask caches
std::string local_signature(const Automaton& A, uint32_t node, size_t max_nodes) {
  // BFS numbering with a reusable dense index (no hashing): O(reachable nodes)
  thread_local std::vector<uint32_t> idx;
  thread_local std::vector<uint32_t> order;
  if (idx.size() < A.nodes.size()) idx.assign(A.nodes.size(), UINT32_MAX);
  order.clear();
  std::string s;
  s.reserve(256);
  auto put32 = [&](uint32_t x) { s.append(reinterpret_cast<const char*>(&x), 4); };
  auto get = [&](uint32_t x) -> uint32_t {
    if (idx[x] != UINT32_MAX) return idx[x];
    uint32_t k = uint32_t(order.size());
    idx[x] = k;
    order.push_back(x);
    return k;
  };
  get(node);
  bool too_big = false;
  for (size_t i = 0; i < order.size(); ++i) {
    if (order.size() > max_nodes) { too_big = true; break; }
    const Node& n = A.nodes[order[i]];
    s += char(n.final | (n.pure_final << 1));
    put32(n.e_end - n.e_begin);
    for (uint32_t e = n.e_begin; e < n.e_end; ++e) {
      s += char(A.edges[e].lo);
      s += char(A.edges[e].hi);
      put32(get(A.edges[e].target));
    }
    put32(n.c_end - n.c_begin);
    for (uint32_t c = n.c_begin; c < n.c_end; ++c) {
      put32(get(A.rule_start[A.calls[c].rule]));
      put32(get(A.calls[c].ret));
      s += char(A.calls[c].gate >= 0);
    }
  }
  for (uint32_t x : order) idx[x] = UINT32_MAX;
  if (too_big) return std::string();
  return s;
}

// Memoized determinization of local walks: state sets are interned, transitions cached,
// so walking ~10^5 trie nodes costs mostly table lookups.
class WalkDfa {
 public:
  explicit WalkDfa(const Automaton& A) : eng_(&A, &gss_, nullptr) {}

  Gss& gss() { return gss_; }

  // The start state is the single configuration, NOT closed: calls and pops at depth 0 are
  // separate configurations of the runtime state, each with its own cache.
  int32_t start(Config c) {
    std::vector<Config> v{c};
    ClosureInfo ci;
    return intern(v, ci, false);
  }

  // The closed state of one configuration (a walk that resumes in a caller after a return).
  int32_t start_closed(Config c) {
    eng_.begin_set();
    tmp_.clear();
    tmpk_.clear();
    eng_.seed(tmp_, tmpk_, c, true);
    ClosureInfo ci;
    eng_.closure(tmp_, tmpk_, &ci);
    return intern(tmp_, ci, true);
  }

  // -1: no configuration survives
  int32_t next(int32_t s, uint8_t b) {
    auto& row = rows_[size_t(s)];
    if (!row) {
      row.reset(new int32_t[256]);
      std::fill(row.get(), row.get() + 256, -2);
    }
    int32_t r = row[b];
    if (r != -2) return r;
    ClosureInfo ci;
    if (!eng_.step(states_[size_t(s)].cfg, b, tmp_, tmpk_, &ci)) {
      r = -1;
    } else {
      r = intern(tmp_, ci, true);
    }
    rows_[size_t(s)][b] = r;
    return r;
  }

  const ClosureInfo& info(int32_t s) const { return states_[size_t(s)].info; }
  // No configuration of s reads a byte: the walk can only go on by returning to the caller.
  bool returns_only(int32_t s) const { return states_[size_t(s)].returns_only; }
  size_t size() const { return states_.size(); }
  // Keeps memory bounded when one WalkDfa serves many builds.
  void reset_if_large(size_t max_states) {
    if (states_.size() <= max_states) return;
    states_.clear();
    rows_.clear();
    ids_.clear();
    gss_.clear();
  }

 private:
  struct St {
    std::vector<Config> cfg;
    ClosureInfo info;
    bool returns_only;
  };
  Gss gss_;
  Engine eng_;
  std::vector<St> states_;
  std::vector<std::unique_ptr<int32_t[]>> rows_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<Config> tmp_;
  std::vector<uint8_t> tmpk_;
  std::string key_;

  // closed: the set is closed under push/pop (its ClosureInfo is meaningful); the unclosed
  // start state must never be confused with a closed set of the same configurations.
  int32_t intern(std::vector<Config>& v, const ClosureInfo& ci, bool closed) {
    std::sort(v.begin(), v.end(), [](const Config& a, const Config& b) {
      return a.node != b.node ? a.node < b.node : a.stack < b.stack;
    });
    key_.assign(1, closed ? 'c' : 'u');
    key_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(Config));
    auto it = ids_.find(key_);
    if (it != ids_.end()) return it->second;
    if (states_.size() >= 200000)
      throw GrammarLimitError("token mask cache construction exceeded 200000 parser states");
    int32_t id = int32_t(states_.size());
    bool ro = true;
    for (const Config& c : v) ro = ro && eng_.a_->nodes[c.node].e_begin == eng_.a_->nodes[c.node].e_end;
    states_.push_back({v, ci, ro});
    rows_.emplace_back();
    ids_.emplace(key_, id);
    return id;
  }
};

namespace {
void finish_cache(MaskCache& mc, std::vector<int32_t>& acc, const Vocabulary& V) {
  mc.accepted = acc.size();
  if (acc.size() > V.size() / 32) {
    mc.bitset = true;
    mc.bits.assign(V.mask_words(), 0);
    for (int32_t t : acc) mc.bits[size_t(t) >> 5] |= 1u << (t & 31);
  } else {
    std::sort(acc.begin(), acc.end());
    mc.ids = std::move(acc);
  }
  mc.unc_lcp.resize(mc.uncertain.size());
  for (size_t k = 0; k < mc.uncertain.size(); ++k) {
    if (k == 0) { mc.unc_lcp[k] = 0; continue; }
    const std::string& a = V.token_bytes(mc.uncertain[k - 1]);
    const std::string& b = V.token_bytes(mc.uncertain[k]);
    size_t l = 0, m = std::min(a.size(), b.size());
    while (l < m && a[l] == b[l]) ++l;
    mc.unc_lcp[k] = uint16_t(l);
  }
}

// Fills unc_suffix/suffixes from unc_split (one entry per uncertain token); drops them
// when no token has a split point.
void index_suffixes(MaskCache& mc, const Vocabulary& V) {
  std::vector<std::pair<std::string_view, uint32_t>> sv;
  for (size_t k = 0; k < mc.unc_split.size(); ++k)
    if (mc.unc_split[k]) sv.emplace_back(std::string_view(V.token_bytes(mc.uncertain[k])).substr(mc.unc_split[k]), uint32_t(k));
  if (sv.empty()) {
    mc.unc_split.clear();
    return;
  }
  std::sort(sv.begin(), sv.end());
  auto t = std::make_shared<SuffixTable>();
  mc.unc_suffix.assign(mc.uncertain.size(), 0);
  for (const auto& [text, k] : sv) {
    if (t->text.empty() || t->text.back() != text) {
      size_t l = 0;
      if (!t->text.empty()) {
        const std::string& p = t->text.back();
        size_t m = std::min(p.size(), text.size());
        while (l < m && p[l] == text[l]) ++l;
      }
      t->lcp.push_back(uint16_t(l));
      t->text.emplace_back(text);
      t->token_begin.push_back(uint32_t(t->tokens.size()));
    }
    t->tokens.push_back(mc.uncertain[k]);
    mc.unc_suffix[k] = uint32_t(t->text.size() - 1);
  }
  t->token_begin.push_back(uint32_t(t->tokens.size()));
  mc.suffixes = std::move(t);
}

// Fates of byte strings walked in trie order from DFA state `start` (lcp(k): the bytes
// string k shares with string k-1): 0 rejected, 1 accepted (some configuration consumes it
// all), 2 undecided (it dies where the walk could pop below the known frames). Strings
// sharing a dead prefix share its fate. `pop_at_start`: such a pop may come before the
// first byte already (a suffix resumes in the caller; a token starts inside the node).
template <class Text, class Lcp>
std::vector<uint8_t> walk_fates(size_t n, Text text, Lcp lcp, int32_t start, bool bottom_real, bool pop_at_start,
                                size_t max_len, WalkDfa& dfa) {
  std::vector<uint8_t> fate(n, 0);
  std::vector<int32_t> st(max_len + 1, -1);
  std::vector<uint8_t> unc(max_len + 1, 0);
  st[0] = start;
  size_t valid = 0;
  uint8_t dead_fate = 0;
  for (size_t k = 0; k < n; ++k) {
    size_t d = lcp(k);
    if (d > valid) {
      fate[k] = dead_fate;
      continue;
    }
    std::string_view tb = text(k);
    bool died = false;
    while (d < tb.size()) {
      uint8_t b = uint8_t(tb[d]);
      const ClosureInfo& pi = dfa.info(st[d]);
      bool u = unc[d] || pi.escaped_gate ||
               (!bottom_real && (pop_at_start || d > 0) && pi.escaped_pop && pi.escape_follow.test(b));
      int32_t nx = dfa.next(st[d], b);
      if (nx < 0) {
        died = true;
        dead_fate = u ? 2 : 0;
        break;
      }
      st[d + 1] = nx;
      unc[d + 1] = u;
      ++d;
    }
    valid = d;
    fate[k] = died ? dead_fate : 1;
  }
  return fate;
}

// What each suffix does after the return to the frame `stack` (its top frame's return
// node, then the frames below).
std::vector<uint8_t> suffix_fates(const SuffixTable& T, size_t max_len, uint32_t stack, bool bottom_real, WalkDfa& dfa) {
  if (stack == 0)  // the return goes below the known frames
    return std::vector<uint8_t>(T.text.size(), bottom_real ? 0 : 2);
  const Frame& f = dfa.gss()[stack];
  int32_t start = dfa.start_closed(Config{f.ret, f.parent});
  return walk_fates(
      T.text.size(), [&](size_t k) { return std::string_view(T.text[k]); }, [&](size_t k) { return size_t(T.lcp[k]); },
      start, bottom_real, true, max_len, dfa);
}
}  // namespace

std::unique_ptr<WalkDfa> make_walk_dfa(const Automaton& a) { return std::make_unique<WalkDfa>(a); }

std::shared_ptr<MaskCache> build_mask_cache(const Automaton& /*A*/, const Vocabulary& V, uint32_t node, WalkDfa& dfa) {
  const TokenTrie& T = V.trie();
  auto mc = std::make_shared<MaskCache>();
  dfa.reset_if_large(8192);
  size_t D = T.max_depth + 1;
  std::vector<int32_t> st(D, -1);
  std::vector<uint8_t> unc(D, 0);
  st[0] = dfa.start(Config{node, 0});
  std::vector<int32_t> acc;
  const size_t N = T.nodes.size();
  size_t i = 1;
  while (i < N) {
    const TrieNode& u = T.nodes[i];
    size_t d = u.depth;
    const ClosureInfo& pi = dfa.info(st[d - 1]);
    // Pops at depth 0 are separate configurations of the runtime state. Deeper pops below
    // the local bottom make the rest of the token context-dependent; no FOLLOW pruning
    // here, so the cache depends only on the node's sub-automaton and is shared across
    // grammars (context caches prune with FOLLOW per grammar).
    bool unc_d = unc[d - 1] || pi.escaped_gate || (d > 1 && pi.escaped_pop);
    int32_t nx = dfa.next(st[d - 1], u.byte);
    if (nx < 0) {
      if (unc_d) {
        // certain so far and nothing left but the return: the rest is a suffix read by the caller
        uint16_t split = d > 1 && !unc[d - 1] && !pi.escaped_gate && dfa.returns_only(st[d - 1]) ? uint16_t(d - 1) : 0;
        for (size_t j = i; j < u.subtree_end; ++j)
          for (uint32_t t = T.nodes[j].tok_begin; t < T.nodes[j].tok_end; ++t) {
            mc->uncertain.push_back(T.ids[t]);
            mc->unc_split.push_back(split);
          }
      }
      i = u.subtree_end;
      continue;
    }
    st[d] = nx;
    for (uint32_t t = u.tok_begin; t < u.tok_end; ++t) acc.push_back(T.ids[t]);
    unc[d] = unc_d;
    ++i;
  }
  finish_cache(*mc, acc, V);
  index_suffixes(*mc, V);
  return mc;
}

// Walks `prev.uncertain` (trie order) from node with the return nodes rets[0] (top) ..
// rets[k-1] on the stack. Tokens consumed without popping below them are accepted;
// tokens that can only continue below them stay uncertain (unless bottom_real).
std::shared_ptr<MaskCache> build_context_cache(const Automaton& A, const Vocabulary& V, uint32_t node,
                                               const std::vector<uint32_t>& rets, bool bottom_real,
                                               const MaskCache& prev, WalkDfa& dfa) {
  auto mc = std::make_shared<MaskCache>();
  dfa.reset_if_large(8192);
  uint32_t stack = 0;
  for (size_t i = rets.size(); i-- > 0;) {
    if (A.nodes[rets[i]].pure_final) continue;
    stack = dfa.gss().intern(rets[i], stack);
  }
  size_t D = V.trie().max_depth + 2;
  const bool split = prev.suffixes != nullptr;
  std::vector<uint8_t> fate;
  if (split) fate = suffix_fates(*prev.suffixes, D, stack, bottom_real, dfa);
  std::vector<int32_t> acc;
  if (split && prev.suffixes->tokens.size() == prev.uncertain.size() &&
      std::find(prev.unc_split.begin(), prev.unc_split.end(), uint16_t(0)) == prev.unc_split.end() &&
      std::find(fate.begin(), fate.end(), uint8_t(2)) == fate.end()) {
    // prev holds every token of the suffix table (all split) and each suffix is decided:
    // read the answer per suffix
    const SuffixTable& T = *prev.suffixes;
    for (size_t i = 0; i < fate.size(); ++i)
      if (fate[i] == 1) acc.insert(acc.end(), T.tokens.begin() + T.token_begin[i], T.tokens.begin() + T.token_begin[i + 1]);
    finish_cache(*mc, acc, V);
    return mc;
  }
  // The tokens without a split point are walked whole from the node, each with its LCP to
  // the previous one walked (split tokens in between are skipped).
  std::vector<uint32_t> whole;
  std::vector<uint16_t> whole_lcp;
  size_t run = SIZE_MAX;
  for (size_t k = 0; k < prev.uncertain.size(); ++k) {
    run = std::min<size_t>(run, prev.unc_lcp[k]);
    if (split && prev.unc_split[k]) continue;
    whole.push_back(uint32_t(k));
    whole_lcp.push_back(uint16_t(run));
    run = SIZE_MAX;
  }
  std::vector<uint8_t> whole_fate = walk_fates(
      whole.size(), [&](size_t i) { return std::string_view(V.token_bytes(prev.uncertain[whole[i]])); },
      [&](size_t i) { return size_t(whole_lcp[i]); }, dfa.start(Config{node, stack}), bottom_real, false, D, dfa);
  for (size_t k = 0, w = 0; k < prev.uncertain.size(); ++k) {
    uint8_t f = split && prev.unc_split[k] ? fate[prev.unc_suffix[k]] : whole_fate[w++];
    if (f == 1) {
      acc.push_back(prev.uncertain[k]);
    } else if (f == 2) {
      mc->uncertain.push_back(prev.uncertain[k]);
      if (split) {
        mc->unc_split.push_back(prev.unc_split[k]);
        mc->unc_suffix.push_back(prev.unc_suffix[k]);
      }
    }
  }
  finish_cache(*mc, acc, V);
  if (split && std::any_of(mc->unc_split.begin(), mc->unc_split.end(), [](uint16_t x) { return x != 0; }))
    mc->suffixes = prev.suffixes;
  else {
    mc->unc_split.clear();
    mc->unc_suffix.clear();
  }
  return mc;
}

}  // namespace detail

using namespace detail;

// ---------------------------------------------------------------- Grammar
Grammar::Grammar(std::unique_ptr<detail::Automaton> a) : automaton_(std::move(a)) {}
Grammar::~Grammar() = default;
size_t Grammar::num_nodes() const { return automaton_->nodes.size(); }
size_t Grammar::num_rules() const { return automaton_->rule_start.size(); }
const std::vector<std::string>& Grammar::tool_names() const { return automaton_->gate_names; }

std::string Grammar::debug_string() const {
  const Automaton& A = *automaton_;
  std::ostringstream os;
  auto byte = [](uint8_t b) {
    char buf[8];
    if (b >= 0x21 && b < 0x7F) { buf[0] = char(b); buf[1] = 0; }
    else snprintf(buf, sizeof buf, "\\x%02X", b);
    return std::string(buf);
  };
  for (size_t r = 0; r < A.rule_start.size(); ++r) {
    os << "rule " << r << " '" << A.rule_names[r] << "' start=" << A.rule_start[r] << "\n";
  }
  for (size_t i = 0; i < A.nodes.size(); ++i) {
    const Node& n = A.nodes[i];
    os << "  n" << i << " (r" << n.rule << ")" << (n.final ? " final" : "") << ":";
    for (uint32_t e = n.e_begin; e < n.e_end; ++e) {
      os << " [" << byte(A.edges[e].lo);
      if (A.edges[e].hi != A.edges[e].lo) os << "-" << byte(A.edges[e].hi);
      os << "]->n" << A.edges[e].target;
    }
    for (uint32_t c = n.c_begin; c < n.c_end; ++c) {
      os << " call(" << A.rule_names[A.calls[c].rule];
      if (A.calls[c].gate >= 0) os << " gate " << A.calls[c].gate;
      os << ")->n" << A.calls[c].ret;
    }
    os << "\n";
  }
  return os.str();
}

// ---------------------------------------------------------------- CompiledGrammar
struct CompiledGrammar::Impl {
  std::unique_ptr<std::atomic<const MaskCache*>[]> caches;
  std::vector<std::shared_ptr<const MaskCache>> owned;
  std::mutex mu;
  std::atomic<size_t> count{0};
  struct KeyHash {
    size_t operator()(const std::vector<uint32_t>& k) const {
      uint64_t h = 0x9E3779B97F4A7C15ULL;
      for (uint32_t x : k) h = mix64(h ^ x);
      return size_t(h);
    }
  };
  std::mutex ctx_mu;
  std::unordered_map<std::vector<uint32_t>, std::shared_ptr<const MaskCache>, KeyHash> ctx;
  size_t ctx_bytes = 0;
  std::mutex walk_mu;  // builds share one memoized walk automaton
  std::unique_ptr<WalkDfa> walk;
};

const MaskCache* CompiledGrammar::context_cache(const std::vector<uint32_t>& key, bool bottom_real,
                                                const MaskCache& prev) const {
  // key layout: node, ret1..retk, bottom_real (the caller's vector is extended in place
  // and restored, so lookups allocate nothing)
  auto& k = const_cast<std::vector<uint32_t>&>(key);
  k.push_back(bottom_real ? 1u : 0u);
  {
    std::lock_guard<std::mutex> lk(impl_->ctx_mu);
    auto it = impl_->ctx.find(k);
    if (it != impl_->ctx.end()) {
      k.pop_back();
      return it->second.get();
    }
    if (impl_->ctx_bytes > (size_t(128) << 20)) {
      k.pop_back();
      return nullptr;
    }
  }
  std::vector<uint32_t> full = k;
  k.pop_back();
  std::vector<uint32_t> rets(key.begin() + 1, key.end());
  std::shared_ptr<const MaskCache> mc;
  {
    std::lock_guard<std::mutex> wl(impl_->walk_mu);
    if (!impl_->walk) impl_->walk = make_walk_dfa(grammar_->automaton());
    mc = build_context_cache(grammar_->automaton(), *vocab_, key[0], rets, bottom_real, prev, *impl_->walk);
  }
  std::lock_guard<std::mutex> lk(impl_->ctx_mu);
  auto ins = impl_->ctx.emplace(std::move(full), mc);
  if (ins.second) impl_->ctx_bytes += key.size() * 4 + mc->bits.size() * 4 + mc->ids.size() * 4 + mc->uncertain.size() * 12;
  return ins.first->second.get();
}

CompiledGrammar::CompiledGrammar(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const Vocabulary> vocab,
                                 bool precompute)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)), impl_(std::make_unique<Impl>()) {
  if (!grammar_) throw GrammarError("CompiledGrammar: null grammar");
  if (!vocab_) throw GrammarError("CompiledGrammar: null vocabulary");
  size_t n = grammar_->num_nodes();
  impl_->caches.reset(new std::atomic<const MaskCache*>[n]);
  for (size_t i = 0; i < n; ++i) impl_->caches[i].store(nullptr, std::memory_order_relaxed);
  // Beyond this many nodes (hostile enums, huge EBNF) filling every cache up front could
  // take seconds for states never visited; those grammars stay lazy.
  constexpr size_t kPrecomputeMaxNodes = 16384;
  if (precompute && n <= kPrecomputeMaxNodes)
    for (size_t i = 0; i < n; ++i) node_cache(uint32_t(i));
}

CompiledGrammar::~CompiledGrammar() = default;

size_t CompiledGrammar::cached_nodes() const { return impl_->count.load(); }

const MaskCache& CompiledGrammar::node_cache(uint32_t node) const {
  const MaskCache* p = impl_->caches[node].load(std::memory_order_acquire);
  if (p) return *p;
  const Automaton& A = grammar_->automaton();
  std::string key = local_signature(A, node, 4096);
  std::shared_ptr<const MaskCache> mc;
  MaskCacheStore& store = vocab_->shared_cache();
  if (!key.empty()) {
    std::lock_guard<std::mutex> lk(store.mu);
    auto it = store.map.find(key);
    if (it != store.map.end()) mc = it->second;
  }
  if (!mc) {
    std::shared_ptr<MaskCache> built;
    {
      std::lock_guard<std::mutex> wl(impl_->walk_mu);
      if (!impl_->walk) impl_->walk = make_walk_dfa(A);
      built = build_mask_cache(A, *vocab_, node, *impl_->walk);
    }
    mc = built;
    if (!key.empty()) {
      std::lock_guard<std::mutex> lk(store.mu);
      size_t sz = key.size() + built->bits.size() * 4 + built->ids.size() * 4 + built->uncertain.size() * 12 +
                  (built->suffixes ? built->suffixes->text.size() * 40 : 0);
      if (store.bytes + sz <= store.max_bytes) {
        store.map.emplace(key, mc);
        store.bytes += sz;
      }
    }
  }
  std::lock_guard<std::mutex> lk(impl_->mu);
  p = impl_->caches[node].load(std::memory_order_acquire);
  if (p) return *p;
  impl_->owned.push_back(mc);
  impl_->caches[node].store(mc.get(), std::memory_order_release);
  impl_->count.fetch_add(1);
  return *mc;
}

// ---------------------------------------------------------------- GrammarMatcher
struct GrammarMatcher::Impl {
  std::shared_ptr<const Grammar> grammar;
  std::shared_ptr<const CompiledGrammar> compiled;
  const Automaton* A = nullptr;
  const Vocabulary* V = nullptr;
  Gss gss;
  std::vector<uint64_t> gates;
  Engine eng{nullptr, nullptr, nullptr};
  size_t max_rollback = 0;

  // history of states: state k = configs [off[k], off[k+1])
  std::vector<Config> hcfg;
  std::vector<uint8_t> hker;
  std::vector<size_t> off;
  std::vector<uint8_t> term;  // per state: EOS accepted

  // scratch
  std::vector<Config> a, b;
  std::vector<uint8_t> ka, kb;
  std::vector<std::vector<Config>> dst;
  std::vector<std::vector<uint8_t>> dkn;
  std::vector<uint32_t> node_stamp;
  uint32_t stamp_gen = 0;
  std::vector<uint32_t> key;
  static constexpr size_t kContextLevels = 4;

  void init(std::shared_ptr<const Grammar> g) {
    grammar = std::move(g);
    A = &grammar->automaton();
    gates.assign((A->gate_names.size() + 63) / 64 + 1, ~uint64_t(0));
    eng = Engine(A, &gss, &gates);
    reset();
  }

  size_t nstates() const { return off.size() - 1; }
  size_t cur_begin() const { return off[off.size() - 2]; }
  size_t cur_end() const { return off.back(); }

  void push_state(const std::vector<Config>& v, const std::vector<uint8_t>& k, bool terminated) {
    hcfg.insert(hcfg.end(), v.begin(), v.end());
    hker.insert(hker.end(), k.begin(), k.end());
    off.push_back(hcfg.size());
    term.push_back(terminated ? 1 : 0);
    if (max_rollback && nstates() > max_rollback * 2 + 2) trim();
  }

  void trim() {
    size_t drop = nstates() - (max_rollback + 1);
    size_t base = off[drop];
    hcfg.erase(hcfg.begin(), hcfg.begin() + long(base));
    hker.erase(hker.begin(), hker.begin() + long(base));
    off.erase(off.begin(), off.begin() + long(drop));
    for (auto& o : off) o -= base;
    term.erase(term.begin(), term.begin() + long(drop));
  }

  void load_current(std::vector<Config>& v, std::vector<uint8_t>& k) const {
    v.assign(hcfg.begin() + long(cur_begin()), hcfg.begin() + long(cur_end()));
    k.assign(hker.begin() + long(cur_begin()), hker.begin() + long(cur_end()));
  }

  void reset() {
    gss.clear();
    hcfg.clear();
    hker.clear();
    off.assign(1, 0);
    term.clear();
    a.clear();
    ka.clear();
    eng.begin_set();
    eng.seed(a, ka, Config{A->root_node, 0}, true);
    eng.closure(a, ka, nullptr);
    push_state(a, ka, false);
  }

  // Recomputes the closure of the current state from its kernel (after gate changes).
  void reclose_current() {
    std::vector<Config> v;
    std::vector<uint8_t> k;
    eng.begin_set();
    for (size_t i = cur_begin(); i < cur_end(); ++i)
      if (hker[i]) eng.seed(v, k, hcfg[i], true);
    eng.closure(v, k, nullptr);
    bool t = term.back();
    hcfg.resize(cur_begin());
    hker.resize(cur_begin());
    off.pop_back();
    term.pop_back();
    push_state(v, k, t);
  }

  bool can_terminate_range(const Config* c, size_t n) const {
    for (size_t i = 0; i < n; ++i)
      if (c[i].stack == 0 && A->nodes[c[i].node].final) return true;
    return false;
  }

  bool can_terminate() const {
    if (term.back()) return false;
    return can_terminate_range(hcfg.data() + cur_begin(), cur_end() - cur_begin());
  }

  // Runs bytes from the current state; result in a/ka. Returns false if rejected.
  bool run_bytes(std::string_view bytes) {
    load_current(a, ka);
    for (unsigned char c : bytes) {
      if (!eng.step(a, c, b, kb, nullptr)) return false;
      a.swap(b);
      ka.swap(kb);
    }
    return true;
  }

  void ensure_depth(size_t D) {
    if (dst.size() < D) {
      dst.resize(D);
      dkn.resize(D);
    }
  }

  void check_uncertain(Config c, const MaskCache& mc, uint32_t* words) {
    size_t D = V->trie().max_depth + 1;
    ensure_depth(D);
    eng.begin_set();
    dst[0].clear();
    dkn[0].clear();
    dst[0].push_back(c);  // its own byte edges only (see fill_mask)
    dkn[0].push_back(1);
    size_t valid = 0;
    for (size_t k = 0; k < mc.uncertain.size(); ++k) {
      int32_t id = mc.uncertain[k];
      size_t L = mc.unc_lcp[k];
      if (L > valid) continue;  // shares a dead prefix
      const std::string& tb = V->token_bytes(id);
      size_t d = L;
      while (d < tb.size()) {
        if (!eng.step(dst[d], uint8_t(tb[d]), dst[d + 1], dkn[d + 1], nullptr)) break;
        ++d;
      }
      valid = d;
      if (d == tb.size()) words[size_t(id) >> 5] |= 1u << (id & 31);
    }
  }

  void fill_mask(uint32_t* words, size_t n_words) {
    if (!V) throw GrammarError("fill_next_token_bitmask: this matcher has no vocabulary");
    size_t need = V->mask_words();
    if (n_words < need)
      throw GrammarError("fill_next_token_bitmask: " + std::to_string(n_words) + " words given, " +
                         std::to_string(need) + " needed for " + std::to_string(V->size()) + " tokens");
    std::memset(words, 0, n_words * sizeof(uint32_t));
    if (term.back()) return;
    const size_t cb = cur_begin(), ce = cur_end();
    if (node_stamp.size() != A->nodes.size()) node_stamp.assign(A->nodes.size(), 0);
    if (++stamp_gen == 0) {
      std::fill(node_stamp.begin(), node_stamp.end(), 0);
      stamp_gen = 1;
    }
    // Every configuration with byte edges contributes its node's cache; configurations
    // without byte edges are covered by the ones their calls/pops put in the state.
    for (size_t i = cb; i < ce; ++i) {
      uint32_t nd = hcfg[i].node;
      const Node& n = A->nodes[nd];
      if (n.e_begin == n.e_end) continue;
      if (node_stamp[nd] == stamp_gen) continue;  // same node, other stack: same accepted set
      node_stamp[nd] = stamp_gen;
      const MaskCache& mc = compiled->node_cache(nd);
      if (mc.bitset) {
        const uint32_t* src = mc.bits.data();
        for (size_t w = 0; w < need; ++w) words[w] |= src[w];
      } else {
        for (int32_t t : mc.ids) words[size_t(t) >> 5] |= 1u << (t & 31);
      }
    }
    for (size_t i = cb; i < ce; ++i) {
      const Node& n = A->nodes[hcfg[i].node];
      if (n.e_begin == n.e_end) continue;
      const MaskCache* mc = &compiled->node_cache(hcfg[i].node);
      if (mc->uncertain.empty()) continue;
      // resolve with the return nodes of the top frames, one level at a time
      key.assign(1, hcfg[i].node);
      uint32_t stk = hcfg[i].stack;
      while (!mc->uncertain.empty() && key.size() <= kContextLevels) {
        bool last = stk == 0;  // the whole stack is known: the walk is exact
        if (!last) key.push_back(gss[stk].ret);
        bool bottom_real = last || gss[stk].parent == 0;
        const MaskCache* next = compiled->context_cache(key, bottom_real, *mc);
        if (!next) break;  // memory budget spent: check the remaining tokens directly
        mc = next;
        if (mc->bitset) {
          for (size_t w = 0; w < need; ++w) words[w] |= mc->bits[w];
        } else {
          for (int32_t t : mc->ids) words[size_t(t) >> 5] |= 1u << (t & 31);
        }
        if (last || bottom_real) break;
        stk = gss[stk].parent;
      }
      if (!mc->uncertain.empty()) check_uncertain(hcfg[i], *mc, words);
    }
    if (can_terminate_range(hcfg.data() + cb, ce - cb))
      for (int32_t e : V->eos_token_ids()) words[size_t(e) >> 5] |= 1u << (e & 31);
  }
};

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> compiled, size_t max_rollback_tokens)
    : impl_(std::make_unique<Impl>()) {
  if (!compiled) throw GrammarError("GrammarMatcher: null compiled grammar");
  impl_->compiled = compiled;
  impl_->V = compiled->vocab().get();
  impl_->max_rollback = max_rollback_tokens;
  impl_->init(compiled->grammar());
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, size_t max_rollback_tokens)
    : impl_(std::make_unique<Impl>()) {
  if (!grammar) throw GrammarError("GrammarMatcher: null grammar");
  impl_->max_rollback = max_rollback_tokens;
  impl_->init(std::move(grammar));
}

GrammarMatcher::~GrammarMatcher() = default;
GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;

void GrammarMatcher::fill_next_token_bitmask(uint32_t* words, size_t n_words) { impl_->fill_mask(words, n_words); }

bool GrammarMatcher::accept_token(int32_t id) {
  Impl& m = *impl_;
  if (!m.V) throw GrammarError("accept_token: this matcher has no vocabulary");
  if (id < 0 || size_t(id) >= m.V->size()) return false;
  if (m.term.back()) return false;
  if (m.V->is_eos(id)) {
    if (!m.can_terminate()) return false;
    m.load_current(m.a, m.ka);
    m.push_state(m.a, m.ka, true);
    return true;
  }
  if (m.V->kind(id) != TokenKind::Normal) return false;
  const std::string& tb = m.V->token_bytes(id);
  if (tb.empty()) return false;
  if (!m.run_bytes(tb)) return false;
  m.push_state(m.a, m.ka, false);
  return true;
}

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
  Impl& m = *impl_;
  if (m.term.back()) return false;
  if (!m.run_bytes(bytes)) return false;
  m.push_state(m.a, m.ka, false);
  return true;
}

void GrammarMatcher::rollback(size_t n) {
  Impl& m = *impl_;
  if (n == 0) return;
  if (n > m.nstates() - 1)
    throw GrammarError("rollback(" + std::to_string(n) + "): only " + std::to_string(m.nstates() - 1) +
                       " steps of history");
  for (size_t i = 0; i < n; ++i) {
    m.off.pop_back();
    m.term.pop_back();
  }
  m.hcfg.resize(m.off.back());
  m.hker.resize(m.off.back());
  m.reclose_current();
}

size_t GrammarMatcher::history_size() const { return impl_->nstates() - 1; }
bool GrammarMatcher::is_terminated() const { return impl_->term.back() != 0; }
bool GrammarMatcher::can_terminate() const { return impl_->can_terminate(); }
void GrammarMatcher::reset() { impl_->reset(); }
size_t GrammarMatcher::num_configs() const { return impl_->cur_end() - impl_->cur_begin(); }

bool GrammarMatcher::must_terminate() const {
  // Called after every sampled token: reads the current configurations in place.
  const Impl& m = *impl_;
  if (!m.can_terminate()) return false;
  for (size_t i = m.cur_begin(); i < m.cur_end(); ++i) {
    const Node& n = m.A->nodes[m.hcfg[i].node];
    if (n.e_begin != n.e_end) return false;  // a byte could follow
  }
  return true;
}

std::string GrammarMatcher::find_jump_forward_bytes(size_t max_bytes) const {
  Impl& m = *impl_;
  std::string out;
  if (m.term.back()) return out;
  std::vector<Config> a, b;
  std::vector<uint8_t> ka, kb;
  m.load_current(a, ka);
  while (out.size() < max_bytes) {
    if (m.can_terminate_range(a.data(), a.size())) break;
    ByteSet next;
    for (const Config& c : a) {
      const Node& n = m.A->nodes[c.node];
      for (uint32_t e = n.e_begin; e < n.e_end; ++e) next.set_range(m.A->edges[e].lo, m.A->edges[e].hi);
    }
    if (next.count() != 1) break;
    unsigned byte = 0;
    while (!next.test(byte)) ++byte;
    if (!m.eng.step(a, uint8_t(byte), b, kb, nullptr)) break;
    out += char(byte);
    a.swap(b);
    ka.swap(kb);
  }
  return out;
}

void GrammarMatcher::set_tool_enabled(std::string_view name, bool enabled) {
  Impl& m = *impl_;
  bool found = false;
  for (size_t g = 0; g < m.A->gate_names.size(); ++g) {
    if (m.A->gate_names[g] != name) continue;
    found = true;
    if (enabled) m.gates[g >> 6] |= uint64_t(1) << (g & 63);
    else m.gates[g >> 6] &= ~(uint64_t(1) << (g & 63));
  }
  if (!found) throw GrammarError("set_tool_enabled: unknown tool '" + std::string(name) + "'");
  m.reclose_current();
}

bool GrammarMatcher::tool_enabled(std::string_view name) const {
  const Impl& m = *impl_;
  for (size_t g = 0; g < m.A->gate_names.size(); ++g)
    if (m.A->gate_names[g] == name) return (m.gates[g >> 6] >> (g & 63)) & 1;
  throw GrammarError("tool_enabled: unknown tool '" + std::string(name) + "'");
}

}  // namespace edgeagent
