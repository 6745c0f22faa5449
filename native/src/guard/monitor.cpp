// The guard monitor: Havelund–Rosu evaluation of the past-time formulas (one bit per
// node, one saturating counter per count(...), recomputed bottom-up from the previous
// event's values), the obligations' DFAs, and the three-valued one-step lookahead used
// to switch tools off at decode time.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "program.h"

namespace edgeagent {

using namespace guard_detail;

const char* guard_action_name(GuardAction a) {
  switch (a) {
    case GuardAction::Allow: return "allow";
    case GuardAction::Confirm: return "confirm";
    case GuardAction::Deny: return "deny";
    case GuardAction::Stop: return "stop";
  }
  return "?";
}

const char* tool_allowance_name(ToolAllowance a) {
  switch (a) {
    case ToolAllowance::Allowed: return "allowed";
    case ToolAllowance::Denied: return "denied";
    case ToolAllowance::Depends: return "depends";
  }
  return "?";
}

GuardPolicy::GuardPolicy(std::unique_ptr<Program> p) : program_(std::move(p)) {}
GuardPolicy::~GuardPolicy() = default;
const std::vector<GuardRuleInfo>& GuardPolicy::rules() const { return program_->rules; }
const std::vector<std::string>& GuardPolicy::custom_events() const { return program_->customs; }

std::shared_ptr<const GuardPolicy> GuardPolicy::parse(std::string_view text, std::string source,
                                                      const std::vector<GuardToolInfo>* tools) {
  return std::make_shared<const GuardPolicy>(compile_policy(text, source, tools));
}

namespace {

// Structural hash of a JSON value, equal for equal values (numbers by value, object
// members in any order): `same_call` compares calls by it.
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}
uint64_t hash_bytes(std::string_view s, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return mix(h);
}
uint64_t hash_json(const Json& j) {
  switch (j.type()) {
    case Json::Type::Null: return 0x9e3779b97f4a7c15ULL;
    case Json::Type::Bool: return j.as_bool() ? 0x1234567ULL : 0x7654321ULL;
    case Json::Type::Number: {
      double d = j.number_value();
      if (d == 0) d = 0;  // -0 == 0
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return mix(bits ^ 0x55aa55aa55aa55aaULL);
    }
    case Json::Type::String: return hash_bytes(j.str(), 1);
    case Json::Type::Array: {
      uint64_t h = 0xa11a7ULL;
      for (const auto& x : j.items()) h = mix(h * 31 + hash_json(x));
      return h;
    }
    case Json::Type::Object: {
      uint64_t h = 0x0b1ec7ULL;  // order-independent sum over members
      for (const auto& [k, v] : j.members()) h += mix(hash_bytes(k, 2) * 0x9e3779b97f4a7c15ULL + hash_json(v));
      return mix(h);
    }
  }
  return 0;
}

bool json_equal_scalar(const Json& v, const Json& lit) {
  if (v.type() != lit.type()) return false;
  switch (v.type()) {
    case Json::Type::Null: return true;
    case Json::Type::Bool: return v.as_bool() == lit.as_bool();
    case Json::Type::Number: return v.number_value() == lit.number_value();
    case Json::Type::String: return v.str() == lit.str();
    default: return false;
  }
}

}  // namespace

struct GuardMonitor::State {
  std::vector<uint8_t> node;       // truth of each node at the last event
  std::vector<uint8_t> atom;       // truth of each atom at the last event
  std::vector<int64_t> counter;    // each counter at the last event (saturated)
  std::vector<int32_t> dfa_state;  // per obligation: state before the next event
  std::vector<uint8_t> dfa_accept; // per obligation: holds if the turn ends now
  int64_t turn_events = 0;         // events in the current turn
  bool first = true;               // no event yet
  bool has_last_call = false;
  uint64_t last_call_hash = 0;     // tool + arguments of the most recent call
  uint64_t last_call_tool = 0;
  // three-valued lookahead scratch (0 false, 1 true, 2 unknown) and counter intervals
  std::vector<uint8_t> tri;
  std::vector<int64_t> lo, hi;
  std::vector<uint64_t> regex_scratch;
  std::vector<std::string_view> path_parts;

  explicit State(const Program& p) {
    node.assign(p.nodes.size(), 0);
    atom.assign(p.atoms.size(), 0);
    counter.assign(p.n_counters, 0);
    dfa_state.resize(p.dfas.size());
    dfa_accept.assign(p.dfas.size(), 1);
    for (size_t i = 0; i < p.dfas.size(); ++i) dfa_state[i] = p.dfas[i].init;
    tri.assign(p.nodes.size(), 0);
    lo.assign(p.n_counters, 0);
    hi.assign(p.n_counters, 0);
    regex_scratch.assign(2 * ((p.max_regex_states + 63) / 64) + 2, 0);
    path_parts.reserve(256);
  }
  void copy_trace_from(const State& o) {  // same sizes: no allocation
    std::copy(o.node.begin(), o.node.end(), node.begin());
    std::copy(o.atom.begin(), o.atom.end(), atom.begin());
    std::copy(o.counter.begin(), o.counter.end(), counter.begin());
    std::copy(o.dfa_state.begin(), o.dfa_state.end(), dfa_state.begin());
    std::copy(o.dfa_accept.begin(), o.dfa_accept.end(), dfa_accept.begin());
    turn_events = o.turn_events;
    first = o.first;
    has_last_call = o.has_last_call;
    last_call_hash = o.last_call_hash;
    last_call_tool = o.last_call_tool;
  }
};

namespace {

const Json* lookup(const Json* v, const std::vector<std::string>& path, size_t from) {
  for (size_t i = from; i < path.size() && v != nullptr; ++i) v = v->is_object() ? v->find(path[i]) : nullptr;
  return v;
}

bool any_string_matches(const Json& v, const RegexMatcher& re, uint64_t* scratch, int depth = 0) {
  if (v.is_string()) return re.search(v.str(), scratch);
  if (depth > 64) return false;
  if (v.is_array()) {
    for (const auto& x : v.items())
      if (any_string_matches(x, re, scratch, depth + 1)) return true;
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.members())
      if (any_string_matches(x, re, scratch, depth + 1)) return true;
  }
  return false;
}

bool under(std::string_view value, const Pred& pr, std::vector<std::string_view>& parts) {
  bool absolute = !value.empty() && value[0] == '/';
  if (absolute != pr.prefix_absolute) return false;
  parts.clear();
  size_t i = 0;
  while (i <= value.size()) {
    size_t j = value.find('/', i);
    if (j == std::string_view::npos) j = value.size();
    std::string_view part = value.substr(i, j - i);
    if (part == "..") {
      if (parts.empty()) return false;  // climbs above its start: never "under" anything
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  if (parts.size() < pr.prefix.size()) return false;
  for (size_t k = 0; k < pr.prefix.size(); ++k)
    if (parts[k] != pr.prefix[k]) return false;
  return true;
}

}  // namespace

// Evaluates one predicate on a present value.
static bool eval_pred(const Program& p, const Pred& pr, const Json* v, std::string_view text_value, bool is_text,
                      uint64_t* scratch, std::vector<std::string_view>& parts) {
  if (is_text) {  // user/text/final/custom: the field `text`
    switch (pr.op) {
      case PredOp::Eq: return pr.literal.is_string() && pr.literal.str() == text_value;
      case PredOp::Ne: return !(pr.literal.is_string() && pr.literal.str() == text_value);
      case PredOp::In:
        for (const auto& x : pr.literal.items())
          if (x.is_string() && x.str() == text_value) return true;
        return false;
      case PredOp::Matches: return p.regexes[pr.regex].search(text_value, scratch);
      case PredOp::Under: return under(text_value, pr, parts);
      default: return false;  // numeric comparison on text
    }
  }
  if (v == nullptr) return pr.op == PredOp::Ne;  // a missing field equals nothing
  switch (pr.op) {
    case PredOp::Eq: return json_equal_scalar(*v, pr.literal);
    case PredOp::Ne: return !json_equal_scalar(*v, pr.literal);
    case PredOp::In:
      for (const auto& x : pr.literal.items())
        if (json_equal_scalar(*v, x)) return true;
      return false;
    case PredOp::Lt: return v->is_number() && v->number_value() < pr.number;
    case PredOp::Le: return v->is_number() && v->number_value() <= pr.number;
    case PredOp::Gt: return v->is_number() && v->number_value() > pr.number;
    case PredOp::Ge: return v->is_number() && v->number_value() >= pr.number;
    case PredOp::Matches: return any_string_matches(*v, p.regexes[pr.regex], scratch);
    case PredOp::Under: return v->is_string() && under(v->str(), pr, parts);
  }
  return false;
}

static bool cmp_holds(Cmp c, int64_t x, int64_t bound) {
  switch (c) {
    case Cmp::Eq: return x == bound;
    case Cmp::Ne: return x != bound;
    case Cmp::Lt: return x < bound;
    case Cmp::Le: return x <= bound;
    case Cmp::Gt: return x > bound;
    case Cmp::Ge: return x >= bound;
  }
  return false;
}

GuardMonitor::GuardMonitor(std::shared_ptr<const GuardPolicy> policy) : policy_(std::move(policy)) {
  if (!policy_) throw InvalidArgument("GuardMonitor needs a policy");
  current_ = std::make_unique<State>(policy_->program());
  scratch_ = std::make_unique<State>(policy_->program());
}
GuardMonitor::~GuardMonitor() = default;
GuardMonitor::GuardMonitor(GuardMonitor&&) noexcept = default;
GuardMonitor& GuardMonitor::operator=(GuardMonitor&&) noexcept = default;

void GuardMonitor::reset() {
  current_ = std::make_unique<State>(policy_->program());
  length_ = 0;
}

void GuardMonitor::evaluate(const GuardEvent& e, State& out) const {
  const Program& p = policy_->program();
  const State& prev = *current_;
  const bool is_call = e.kind == GuardEventKind::Call;
  uint64_t call_tool = 0, call_hash = 0;
  if (is_call) {
    call_tool = hash_bytes(e.name, 3);
    call_hash = mix(call_tool ^ (e.value != nullptr ? hash_json(*e.value) : 0x77));
  }
  int32_t custom = e.kind == GuardEventKind::Custom ? p.custom_index(e.name) : -1;
  uint64_t* scratch = out.regex_scratch.data();
  // atoms
  for (size_t i = 0; i < p.atoms.size(); ++i) {
    const Atom& a = p.atoms[i];
    bool v = false;
    switch (a.kind) {
      case AtomKind::User: v = e.kind == GuardEventKind::User; break;
      case AtomKind::Text: v = e.kind == GuardEventKind::Text; break;
      case AtomKind::Final: v = e.kind == GuardEventKind::Final; break;
      case AtomKind::Custom: v = e.kind == GuardEventKind::Custom && custom == a.custom; break;
      case AtomKind::Call: v = is_call && a.has_tool(e.name); break;
      case AtomKind::Result: v = e.kind == GuardEventKind::Result && a.has_tool(e.name); break;
      case AtomKind::SameCall: v = is_call && prev.has_last_call && prev.last_call_hash == call_hash; break;
    }
    if (v && !a.preds.empty()) {
      const bool is_text = a.kind != AtomKind::Call && a.kind != AtomKind::Result;
      for (const Pred& pr : a.preds) {
        const Json* field = nullptr;
        if (!is_text) {
          if (a.kind == AtomKind::Result && pr.path[0] == "value") field = lookup(e.value, pr.path, 1);
          else field = lookup(e.value, pr.path, 0);
        }
        if (!eval_pred(p, pr, field, e.text, is_text, scratch, out.path_parts)) {
          v = false;
          break;
        }
      }
    }
    out.atom[i] = v;
  }
  // nodes, bottom-up
  const bool first = prev.first;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    uint8_t v = 0;
    switch (n.op) {
      case Op::True: v = 1; break;
      case Op::False: v = 0; break;
      case Op::Atom: v = out.atom[n.atom]; break;
      case Op::Not: v = !out.node[n.a]; break;
      case Op::And: v = out.node[n.a] && out.node[n.b]; break;
      case Op::Or: v = out.node[n.a] || out.node[n.b]; break;
      case Op::Y: v = !first && prev.node[n.a]; break;
      case Op::O: v = out.node[n.a] || (!first && prev.node[i]); break;
      case Op::H: v = out.node[n.a] && (first || prev.node[i]); break;
      case Op::S: v = out.node[n.b] || (out.node[n.a] && !first && prev.node[i]); break;
      case Op::Count: {
        int64_t c;
        if (n.b >= 0 && out.node[n.b]) {
          c = 0;
        } else {
          c = (first ? 0 : prev.counter[n.counter]) + (out.node[n.a] ? 1 : 0);
          const int64_t cap = std::max<int64_t>(n.bound, 0) + 1;
          if (c > cap) c = cap;
        }
        out.counter[n.counter] = c;
        v = cmp_holds(n.cmp, c, n.bound);
        break;
      }
      case Op::X: case Op::F: case Op::G: case Op::U: v = 0; break;  // judged by the DFAs
    }
    out.node[i] = v;
  }
  // obligations
  const bool new_turn = e.kind == GuardEventKind::User;
  for (size_t r = 0; r < p.dfas.size(); ++r) {
    const Dfa& d = p.dfas[r];
    int32_t s = new_turn ? d.init : prev.dfa_state[r];
    uint32_t val = 0;
    for (size_t k = 0; k < d.letters.size(); ++k) val |= uint32_t(out.node[d.letters[k]]) << k;
    size_t idx = (static_cast<size_t>(s) << d.letters.size()) | val;
    out.dfa_accept[r] = d.accept[idx];
    out.dfa_state[r] = d.next[idx];
  }
  out.turn_events = new_turn ? 1 : prev.turn_events + 1;
  out.first = false;
  out.has_last_call = is_call || prev.has_last_call;
  out.last_call_hash = is_call ? call_hash : prev.last_call_hash;
  out.last_call_tool = is_call ? call_tool : prev.last_call_tool;
}

GuardVerdict GuardMonitor::verdict_of(const State& s) const {
  const Program& p = policy_->program();
  GuardVerdict v;
  for (size_t r = 0; r < p.code.size(); ++r) {
    const RuleCode& c = p.code[r];
    if (c.cond < 0 || !s.node[c.cond]) continue;
    GuardAction a = p.rules[r].action;
    if (a > v.action) {
      v.action = a;
      v.rule = static_cast<int32_t>(r);
    }
  }
  return v;
}

GuardVerdict GuardMonitor::check(const GuardEvent& event) const {
  evaluate(event, *scratch_);
  return verdict_of(*scratch_);
}

GuardVerdict GuardMonitor::step(const GuardEvent& event) {
  evaluate(event, *scratch_);
  GuardVerdict v = verdict_of(*scratch_);
  std::swap(current_, scratch_);
  ++length_;
  return v;
}

void GuardMonitor::check_final(std::vector<GuardVerdict>& out) const {
  const Program& p = policy_->program();
  if (current_->turn_events == 0) return;
  for (size_t r = 0; r < p.code.size(); ++r) {
    const RuleCode& c = p.code[r];
    if (c.dfa < 0 || current_->dfa_accept[c.dfa]) continue;
    out.push_back(GuardVerdict{p.rules[r].action, static_cast<int32_t>(r)});
  }
}

// ---------------------------------------------------------------- lookahead
namespace {

constexpr uint8_t kF = 0, kT = 1, kU = 2;

uint8_t tri_not(uint8_t a) { return a == kU ? kU : uint8_t(!a); }
uint8_t tri_and(uint8_t a, uint8_t b) {
  if (a == kF || b == kF) return kF;
  if (a == kT && b == kT) return kT;
  return kU;
}
uint8_t tri_or(uint8_t a, uint8_t b) {
  if (a == kT || b == kT) return kT;
  if (a == kF && b == kF) return kF;
  return kU;
}
uint8_t tri_cmp(Cmp c, int64_t lo, int64_t hi, int64_t n) {
  // The counter is somewhere in [lo, hi]; every comparison is monotone or (==, !=)
  // decided by whether n lies in the interval.
  bool all, none;
  switch (c) {
    case Cmp::Eq: all = lo == n && hi == n; none = n < lo || n > hi; break;
    case Cmp::Ne: all = n < lo || n > hi; none = lo == n && hi == n; break;
    case Cmp::Lt: all = hi < n; none = lo >= n; break;
    case Cmp::Le: all = hi <= n; none = lo > n; break;
    case Cmp::Gt: all = lo > n; none = hi <= n; break;
    case Cmp::Ge: all = lo >= n; none = hi < n; break;
    default: all = none = false;
  }
  return all ? kT : none ? kF : kU;
}

}  // namespace

ToolAllowance GuardMonitor::allowed_tool(std::string_view tool) const {
  const Program& p = policy_->program();
  State& s = *scratch_;
  lookahead(tool, -1, 0);
  ToolAllowance out = ToolAllowance::Allowed;
  for (size_t r = 0; r < p.code.size(); ++r) {
    const RuleCode& c = p.code[r];
    if (c.cond < 0) continue;
    GuardAction a = p.rules[r].action;
    if (a != GuardAction::Deny && a != GuardAction::Stop) continue;
    if (s.tri[c.cond] == kT) return ToolAllowance::Denied;
    if (s.tri[c.cond] == kU) out = ToolAllowance::Depends;
  }
  return out;
}

std::vector<ArgumentConstraint> GuardMonitor::argument_constraints(std::string_view tool) const {
  const Program& p = policy_->program();
  State& s = *scratch_;
  std::vector<ArgumentConstraint> out;
  lookahead(tool, -1, 0);
  std::vector<uint8_t> base = s.tri;
  for (size_t r = 0; r < p.code.size(); ++r) {
    const RuleCode& c = p.code[r];
    GuardAction action = p.rules[r].action;
    if (c.cond < 0 || (action != GuardAction::Deny && action != GuardAction::Stop) || base[c.cond] != kU) continue;
    for (size_t ai = 0; ai < p.atoms.size(); ++ai) {
      const Atom& a = p.atoms[ai];
      if (a.kind != AtomKind::Call || a.preds.empty() || !a.has_tool(tool)) continue;
      lookahead(tool, static_cast<int32_t>(ai), kT);
      uint8_t when_true = s.tri[c.cond];
      lookahead(tool, static_cast<int32_t>(ai), kF);
      uint8_t when_false = s.tri[c.cond];
      auto emit = [&](const Pred& pr, PredOp op) {
        if (pr.path.size() != 1) return;
        ArgumentConstraint k;
        k.argument = pr.path[0];
        k.op = pred_op_name(op);
        k.literal_json = pr.literal.dump_compact();
        k.rule = static_cast<int32_t>(r);
        out.push_back(std::move(k));
      };
      if (when_true == kF && when_false == kT) {
        // denied unless the atom holds: every predicate of the atom must hold
        for (const Pred& pr : a.preds) {
          if (pr.op == PredOp::Eq || pr.op == PredOp::In || pr.op == PredOp::Lt || pr.op == PredOp::Le ||
              pr.op == PredOp::Gt || pr.op == PredOp::Ge || pr.op == PredOp::Matches)
            emit(pr, pr.op);
        }
      } else if (when_true == kT && when_false == kF && a.preds.size() == 1) {
        // denied when the atom holds: its predicate must fail (negations with a schema form)
        const Pred& pr = a.preds[0];
        switch (pr.op) {
          case PredOp::Ne: emit(pr, PredOp::Eq); break;
          case PredOp::Lt: emit(pr, PredOp::Ge); break;
          case PredOp::Le: emit(pr, PredOp::Gt); break;
          case PredOp::Gt: emit(pr, PredOp::Le); break;
          case PredOp::Ge: emit(pr, PredOp::Lt); break;
          default: break;
        }
      }
    }
  }
  return out;
}

void GuardMonitor::lookahead(std::string_view tool, int32_t forced, uint8_t forced_value) const {
  const Program& p = policy_->program();
  const State& prev = *current_;
  State& s = *scratch_;
  const bool first = prev.first;
  const uint64_t tool_hash = hash_bytes(tool, 3);
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    uint8_t v = kF;
    switch (n.op) {
      case Op::True: v = kT; break;
      case Op::False: v = kF; break;
      case Op::Atom: {
        const Atom& a = p.atoms[n.atom];
        if (n.atom == forced) {
          v = forced_value;
        } else if (a.kind == AtomKind::Call) {
          v = !a.has_tool(tool) ? kF : a.preds.empty() ? kT : kU;
        } else if (a.kind == AtomKind::SameCall) {
          v = prev.has_last_call && prev.last_call_tool == tool_hash ? kU : kF;
        } else {
          v = kF;  // the next event is a call
        }
        break;
      }
      case Op::Not: v = tri_not(s.tri[n.a]); break;
      case Op::And: v = tri_and(s.tri[n.a], s.tri[n.b]); break;
      case Op::Or: v = tri_or(s.tri[n.a], s.tri[n.b]); break;
      case Op::Y: v = !first && prev.node[n.a] ? kT : kF; break;
      case Op::O: v = tri_or(s.tri[n.a], !first && prev.node[i] ? kT : kF); break;
      case Op::H: v = tri_and(s.tri[n.a], first || prev.node[i] ? kT : kF); break;
      case Op::S: v = tri_or(s.tri[n.b], tri_and(s.tri[n.a], !first && prev.node[i] ? kT : kF)); break;
      case Op::Count: {
        const int64_t base = first ? 0 : prev.counter[n.counter];
        const uint8_t inc = s.tri[n.a];
        const uint8_t reset = n.b >= 0 ? s.tri[n.b] : kF;
        int64_t l, h;
        if (reset == kT) {
          l = h = 0;
        } else {
          l = base + (inc == kT ? 1 : 0);
          h = base + (inc == kF ? 0 : 1);
          if (reset == kU) l = 0;
        }
        s.lo[n.counter] = l;
        s.hi[n.counter] = h;
        v = tri_cmp(n.cmp, l, h, n.bound);
        break;
      }
      case Op::X: case Op::F: case Op::G: case Op::U: v = kF; break;
    }
    s.tri[i] = v;
  }
}

}  // namespace edgeagent
