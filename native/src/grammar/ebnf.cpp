// GBNF (llama.cpp grammar syntax) front end.
#include <unordered_map>

#include "automaton.h"
#include "edgeagent/grammar.h"
#include "ir.h"
#include "utf8.h"

namespace edgeagent {
using namespace detail;

namespace {

class EbnfParser {
 public:
  EbnfParser(std::string_view s, IrBuilder& ir) : s_(s), ir_(ir) {}

  uint32_t parse(std::string_view root) {
    skip_space(true);
    while (pos_ < s_.size()) {
      size_t name_pos = pos_;
      std::string name = parse_name();
      skip_space(false);
      if (s_.substr(pos_, 3) != "::=") fail("expected '::=' after rule name '" + name + "'");
      pos_ += 3;
      skip_space(true);
      uint32_t r = rule_id(name, name_pos);
      if (defined_.count(name)) fail_at("rule '" + name + "' defined twice", name_pos);
      defined_[name] = name_pos;
      uint32_t body = parse_alternates(0);
      ir_.set_body(r, body);
      skip_space(false);
      if (pos_ < s_.size()) {
        if (s_[pos_] != '\n' && s_[pos_] != '\r') fail("expected end of line after rule '" + name + "'");
      }
      skip_space(true);
    }
    for (auto& kv : first_use_)
      if (!defined_.count(kv.first)) fail_at("undefined rule '" + kv.first + "'", kv.second);
    auto it = rules_.find(std::string(root));
    if (it == rules_.end() || !defined_.count(std::string(root)))
      throw EbnfParseError("grammar does not define the root rule '" + std::string(root) + "'", 1, 1);
    return it->second;
  }

 private:
  std::string_view s_;
  IrBuilder& ir_;
  size_t pos_ = 0;
  std::unordered_map<std::string, uint32_t> rules_;
  std::unordered_map<std::string, size_t> first_use_, defined_;

  [[noreturn]] void fail(const std::string& m) { fail_at(m, pos_); }
  [[noreturn]] void fail_at(const std::string& m, size_t p) {
    int line = 1, col = 1;
    for (size_t i = 0; i < p && i < s_.size(); ++i) {
      if (s_[i] == '\n') { ++line; col = 1; }
      else if ((uint8_t(s_[i]) & 0xC0) != 0x80) ++col;
    }
    throw EbnfParseError(m, line, col);
  }

  uint32_t rule_id(const std::string& name, size_t p) {
    auto it = rules_.find(name);
    if (it != rules_.end()) return it->second;
    uint32_t r = ir_.add_rule(name);
    rules_[name] = r;
    first_use_[name] = p;
    return r;
  }

  void skip_space(bool newlines) {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || ((c == '\n' || c == '\r') && newlines)) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }

  std::string parse_name() {
    size_t b = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    if (b == pos_) fail("expected a rule name");
    return std::string(s_.substr(b, pos_ - b));
  }

  uint32_t hex(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= s_.size()) fail("truncated escape");
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("invalid hex digit in escape");
    }
    return v;
  }

  // One (possibly escaped) code point.
  uint32_t parse_char() {
    if (pos_ >= s_.size()) fail("unexpected end of grammar");
    if (s_[pos_] == '\\') {
      ++pos_;
      if (pos_ >= s_.size()) fail("truncated escape");
      char e = s_[pos_++];
      switch (e) {
        case 'x': return hex(2);
        case 'u': return hex(4);
        case 'U': return hex(8);
        case 't': return '\t';
        case 'r': return '\r';
        case 'n': return '\n';
        case '\\': case '"': case '[': case ']': case '\'': case '-': case '^': return uint32_t(uint8_t(e));
        default: fail_at(std::string("unknown escape '\\") + e + "'", pos_ - 2);
      }
    }
    uint32_t cp;
    size_t n = utf8::decode(s_.data() + pos_, s_.size() - pos_, &cp);
    if (n == 0) fail("invalid UTF-8 in grammar");
    pos_ += n;
    return cp;
  }

  uint32_t cp_expr(uint32_t cp) {
    if (cp > 0x10FFFF) fail("code point out of range");
    if (cp < 0x100 && cp >= 0x80) {
      // \xHH above 0x7F in GBNF denotes the code point (UTF-8 encoded), like llama.cpp
    }
    return ir_.codepoints(CpSet::single(cp));
  }

  uint32_t parse_alternates(int depth) {
    if (depth > 200) fail("grammar nested too deeply");
    std::vector<uint32_t> alts;
    alts.push_back(parse_sequence(depth));
    while (pos_ < s_.size() && s_[pos_] == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(depth));
    }
    return alts.size() == 1 ? alts[0] : ir_.alt(alts);
  }

  uint32_t parse_sequence(int depth) {
    std::vector<uint32_t> items;
    bool nested = depth > 0;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      size_t start = pos_;
      uint32_t item;
      if (c == '"') {
        ++pos_;
        std::vector<uint32_t> chars;
        while (true) {
          if (pos_ >= s_.size() || s_[pos_] == '\n') fail_at("unterminated string literal", start);
          if (s_[pos_] == '"') { ++pos_; break; }
          chars.push_back(cp_expr(parse_char()));
        }
        item = ir_.seq(chars);
      } else if (c == '[') {
        ++pos_;
        bool neg = false;
        if (pos_ < s_.size() && s_[pos_] == '^') { neg = true; ++pos_; }
        CpSet set;
        while (true) {
          if (pos_ >= s_.size() || s_[pos_] == '\n') fail_at("unterminated character class", start);
          if (s_[pos_] == ']') { ++pos_; break; }
          uint32_t lo = parse_char(), hi = lo;
          if (pos_ + 1 < s_.size() && s_[pos_] == '-' && s_[pos_ + 1] != ']') {
            ++pos_;
            hi = parse_char();
            if (hi < lo) fail_at("character range is out of order", start);
          }
          set.add(lo, std::min<uint32_t>(hi, 0x10FFFF));
        }
        if (neg) set = set.complement();
        item = ir_.codepoints(set);
      } else if (c == '.') {
        ++pos_;
        item = ir_.codepoints(CpSet::all());
      } else if (name_char(c)) {
        std::string name = parse_name();
        item = ir_.ref(rule_id(name, start));
      } else if (c == '(') {
        ++pos_;
        skip_space(true);
        item = parse_alternates(depth + 1);
        skip_space(true);
        if (pos_ >= s_.size() || s_[pos_] != ')') fail_at("unclosed '('", start);
        ++pos_;
      } else {
        break;
      }
      skip_space(nested);
      // postfix operators
      while (pos_ < s_.size()) {
        char p = s_[pos_];
        if (p == '*') { item = ir_.star(item); ++pos_; }
        else if (p == '+') { item = ir_.plus(item); ++pos_; }
        else if (p == '?') { item = ir_.opt(item); ++pos_; }
        else if (p == '{') {
          size_t bp = pos_;
          ++pos_;
          skip_space(false);
          uint64_t m = parse_int(bp), n = m;
          skip_space(false);
          if (pos_ < s_.size() && s_[pos_] == ',') {
            ++pos_;
            skip_space(false);
            if (pos_ < s_.size() && s_[pos_] == '}') n = kInf;
            else n = parse_int(bp);
            skip_space(false);
          }
          if (pos_ >= s_.size() || s_[pos_] != '}') fail_at("expected '}' to close the repetition", bp);
          ++pos_;
          if (n != kInf && n < m) fail_at("repetition {m,n} with n < m", bp);
          try {
            item = ir_.repeat(item, uint32_t(m), n == kInf ? kInf : uint32_t(n));
          } catch (const GrammarLimitError& e) {
            fail_at(e.what(), bp);
          }
        } else {
          break;
        }
        skip_space(nested);
      }
      items.push_back(item);
    }
    return ir_.seq(items);
  }

  uint64_t parse_int(size_t at) {
    size_t b = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + uint64_t(s_[pos_] - '0');
      if (v > 0xFFFFFFF0ull) fail_at("repetition bound too large", at);
      ++pos_;
    }
    if (b == pos_) fail_at("expected a number in the repetition", at);
    return v;
  }
};

}  // namespace

std::shared_ptr<const Grammar> Grammar::from_ebnf(std::string_view text, std::string_view root_rule,
                                                  const GrammarLimits& limits) {
  IrBuilder ir(limits);
  EbnfParser p(text, ir);
  uint32_t root = p.parse(root_rule);
  return std::make_shared<Grammar>(lower(ir, root));
}

}  // namespace edgeagent
