// JSON Schema -> grammar IR compiler.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "automaton.h"
#include "edgeagent/grammar.h"
#include "ir.h"
#include "regex.h"
#include "schema_internal.h"
#include "utf8.h"

namespace edgeagent {
namespace detail {

namespace {

const char* kAnnotations[] = {"title",   "description", "default",    "examples",   "$schema",
                              "$id",     "$comment",    "deprecated", "readOnly",   "writeOnly",
                              "$defs",   "definitions", "$anchor"};
const char* kSupported[] = {"type",      "properties",       "required",         "additionalProperties",
                            "enum",      "const",            "anyOf",            "oneOf",
                            "$ref",      "items",            "prefixItems",      "minItems",
                            "maxItems",  "minLength",        "maxLength",        "pattern",
                            "minimum",   "maximum",          "exclusiveMinimum", "exclusiveMaximum",
                            "format"};

bool in_list(const std::string& k, const char* const* list, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (k == list[i]) return true;
  return false;
}
bool is_annotation(const std::string& k) { return in_list(k, kAnnotations, sizeof kAnnotations / sizeof *kAnnotations); }
bool is_supported(const std::string& k) { return in_list(k, kSupported, sizeof kSupported / sizeof *kSupported); }

std::string where(const std::string& ptr) { return ptr.empty() ? "(root)" : ptr; }

std::string ptr_escape(const std::string& k) {
  std::string o;
  for (char c : k) {
    if (c == '~') o += "~0";
    else if (c == '/') o += "~1";
    else o += c;
  }
  return o;
}

enum TypeBit : unsigned { TNull = 1, TBool = 2, TInt = 4, TNum = 8, TStr = 16, TArr = 32, TObj = 64, TAll = 127 };

unsigned type_bit(const std::string& t) {
  if (t == "null") return TNull;
  if (t == "boolean") return TBool;
  if (t == "integer") return TInt;
  if (t == "number") return TNum | TInt;
  if (t == "string") return TStr;
  if (t == "array") return TArr;
  if (t == "object") return TObj;
  return 0;
}

// Exact decimal of a number lexeme: value = (neg ? -1 : 1) * 0.digits * 10^exp10.
struct Dec {
  bool neg = false;
  std::string digits;  // no leading/trailing zeros; empty = 0
  long long exp10 = 0;
};

Dec to_dec(const std::string& lex) {
  Dec d;
  size_t i = 0;
  if (i < lex.size() && lex[i] == '-') { d.neg = true; ++i; }
  std::string mant;
  long long point = 0;
  bool seen = false;
  for (; i < lex.size() && lex[i] != 'e' && lex[i] != 'E'; ++i) {
    if (lex[i] == '.') { seen = true; continue; }
    mant += lex[i];
    if (!seen) ++point;
  }
  long long e = 0;
  if (i < lex.size()) {
    ++i;
    bool en = false;
    if (lex[i] == '+' || lex[i] == '-') { en = lex[i] == '-'; ++i; }
    for (; i < lex.size(); ++i)
      if (e < 1000000000LL) e = e * 10 + (lex[i] - '0');
    if (en) e = -e;
  }
  size_t lead = 0;
  while (lead < mant.size() && mant[lead] == '0') ++lead;
  if (lead == mant.size()) { d.neg = false; return d; }
  size_t trail = mant.size();
  while (trail > lead && mant[trail - 1] == '0') --trail;
  d.digits = mant.substr(lead, trail - lead);
  d.exp10 = point - (long long)lead + e;
  return d;
}

// Integer part / fraction digits of a decimal (for literal grammars). Returns false when
// the number is too large to spell out.
bool dec_parts(const Dec& d, std::string* ip, std::string* frac) {
  if (d.digits.empty()) { *ip = "0"; frac->clear(); return true; }
  if (d.exp10 > 400 || d.exp10 < -400) return false;
  long long n = (long long)d.digits.size();
  if (d.exp10 <= 0) {
    *ip = "0";
    *frac = std::string(size_t(-d.exp10), '0') + d.digits;
  } else if (d.exp10 >= n) {
    *ip = d.digits + std::string(size_t(d.exp10 - n), '0');
    frac->clear();
  } else {
    *ip = d.digits.substr(0, size_t(d.exp10));
    *frac = d.digits.substr(size_t(d.exp10));
  }
  return true;
}

// floor / ceil of a decimal as int64; false when |value| >= 1e18.
bool dec_floor_ceil(const Dec& d, bool want_ceil, long long* out) {
  std::string ip, fr;
  if (!dec_parts(d, &ip, &fr)) return false;
  if (ip.size() > 18) return false;
  long long v = std::stoll(ip);
  bool has_frac = !fr.empty();
  if (d.neg) {
    v = -v;
    if (has_frac && !want_ceil) v -= 1;
  } else if (has_frac && want_ceil) {
    v += 1;
  }
  *out = v;
  return true;
}

constexpr unsigned long long kUInf = ~0ull;

}  // namespace

class SchemaCompiler {
 public:
  SchemaCompiler(IrBuilder& ir, const Json& doc, const JsonSchemaOptions& opt, std::vector<std::string>* warnings)
      : ir_(ir), doc_(doc), opt_(opt), warnings_(warnings) {}

  uint32_t compile_document() {
    uint32_t root = ir_.add_rule("root");
    uint32_t v = compile(doc_, "", "", 0, false);
    drain_refs();
    if (opt_.whitespace == Whitespace::Flexible) v = ir_.seq({W(), v, W()});
    ir_.set_body(root, v);
    return root;
  }

  // Compiles the schema at pointer ptr without its enum/const (for filtering literals).
  uint32_t compile_without_enum(const Json& s, const std::string& ptr, const std::string& res_root) {
    uint32_t root = ir_.add_rule("root");
    uint32_t v = compile(s, ptr, res_root, 0, true);
    drain_refs();
    ir_.set_body(root, ir_.seq({W(), v, W()}));
    return root;
  }

  uint32_t compile_value() {
    uint32_t v = compile(doc_, "", "", 0, false);
    drain_refs();
    return v;
  }
  uint32_t any_value_rule() { return r_any(); }
  // Why the schema admits no value, from the innermost subschema found empty
  // (children compile before their parents, so the first one recorded is the cause).
  const std::string& unsat_reason() const { return unsat_reason_; }
  uint32_t ws_expr() { return W(); }

 private:
  IrBuilder& ir_;
  const Json& doc_;
  JsonSchemaOptions opt_;
  std::vector<std::string>* warnings_;
  std::string unsat_reason_;
  std::unordered_map<std::string, uint32_t> ref_rules_;
  int64_t r_ws_ = -1, r_jchar_ = -1, r_string_ = -1, r_strtail_ = -1, r_number_ = -1, r_integer_ = -1, r_any_ = -1;
  std::map<std::vector<std::pair<uint32_t, uint32_t>>, uint32_t> label_rules_;

  bool flexible() const { return opt_.whitespace == Whitespace::Flexible; }
  std::string shared_key(const char* name) const { return std::string(name) + (flexible() ? "/flexible" : "/compact"); }

  // ------------------------------------------------------------ basic pieces
  uint32_t lit(std::string_view s) { return ir_.literal(s); }
  uint32_t W() {
    if (!flexible()) return ir_.empty();
    if (r_ws_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("ws"));
      if (sh != ir_.shared_rules_.end()) r_ws_ = sh->second;
    }
    if (r_ws_ < 0) {
      r_ws_ = ir_.add_rule("ws");
      ir_.shared_rules_[shared_key("ws")] = uint32_t(r_ws_);
      ByteSet b;
      b.set(' ');
      b.set('\t');
      b.set('\n');
      b.set('\r');
      ir_.set_body(uint32_t(r_ws_), ir_.star(ir_.bytes(b)));
    }
    return ir_.ref(uint32_t(r_ws_));
  }
  uint32_t item_sep() { return flexible() ? ir_.seq({W(), lit(","), W()}) : lit(", "); }
  uint32_t key_sep() { return flexible() ? ir_.seq({W(), lit(":"), W()}) : lit(": "); }
  uint32_t open(char c) { return ir_.seq({lit(std::string(1, c)), W()}); }
  uint32_t close(char c) { return ir_.seq({W(), lit(std::string(1, c))}); }

  uint32_t hexdigit_range(unsigned lo, unsigned hi) {
    ByteSet b;
    for (unsigned d = lo; d <= hi; ++d) {
      if (d < 10) b.set('0' + d);
      else { b.set('a' + d - 10); b.set('A' + d - 10); }
    }
    return ir_.bytes(b);
  }

  // fixed-width base-16 range [lo, hi] with `width` digits (case-insensitive)
  uint32_t hex_range(uint32_t lo, uint32_t hi, int width) {
    if (width == 1) return hexdigit_range(lo, hi);
    uint32_t unit = 1u << (4 * (width - 1));
    uint32_t d0 = lo / unit, d1 = hi / unit;
    uint32_t rl = lo % unit, rh = hi % unit;
    if (d0 == d1) return ir_.seq({hexdigit_range(d0, d0), hex_range(rl, rh, width - 1)});
    std::vector<uint32_t> alts;
    uint32_t s = d0, e = d1;
    if (rl != 0) {
      alts.push_back(ir_.seq({hexdigit_range(d0, d0), hex_range(rl, unit - 1, width - 1)}));
      s = d0 + 1;
    }
    if (rh != unit - 1) {
      alts.push_back(ir_.seq({hexdigit_range(d1, d1), hex_range(0, rh, width - 1)}));
      e = d1 - 1;
    }
    if (s <= e) {
      std::vector<uint32_t> k{hexdigit_range(s, e)};
      for (int i = 1; i < width; ++i) k.push_back(hexdigit_range(0, 15));
      alts.push_back(ir_.seq(k));
    }
    return ir_.alt(alts);
  }

  // One JSON-encoded character whose code point is in `set`.
  //   all_escapes: any valid encoding (raw, short escapes, \uXXXX, surrogate pairs).
  //   otherwise: the canonical json.dumps(ensure_ascii=False) encoding only.
  uint32_t json_char(const CpSet& set, bool all_escapes) {
    std::vector<uint32_t> alts;
    CpSet raw_ok;
    raw_ok.add(0x20, 0x21);
    raw_ok.add(0x23, 0x5B);
    raw_ok.add(0x5D, 0x10FFFF);
    CpSet raw = set.intersect(raw_ok);
    if (!raw.empty()) alts.push_back(ir_.codepoints(raw));
    static const std::pair<uint32_t, char> shorts[] = {{0x22, '"'}, {0x5C, '\\'}, {0x2F, '/'}, {0x08, 'b'},
                                                       {0x0C, 'f'}, {0x0A, 'n'},  {0x0D, 'r'}, {0x09, 't'}};
    for (auto& sh : shorts) {
      if (!set.contains(sh.first)) continue;
      if (!all_escapes && sh.first == 0x2F) continue;
      alts.push_back(lit(std::string("\\") + sh.second));
    }
    if (all_escapes) {
      CpSet bmp = set.intersect(CpSet::range(0, 0xFFFF)).minus(CpSet::range(0xD800, 0xDFFF));
      for (auto& r : bmp.r) alts.push_back(ir_.seq({lit("\\u"), hex_range(r.first, r.second, 4)}));
      CpSet sup = set.intersect(CpSet::range(0x10000, 0x10FFFF));
      for (auto& r : sup.r) {
        uint32_t lo = r.first - 0x10000, hi = r.second - 0x10000;
        uint32_t hlo = lo >> 10, hhi = hi >> 10;
        auto pair = [&](uint32_t h, uint32_t l0, uint32_t l1) {
          return ir_.seq({lit("\\u"), hex_range(0xD800 + h, 0xD800 + h, 4), lit("\\u"),
                          hex_range(0xDC00 + l0, 0xDC00 + l1, 4)});
        };
        if (hlo == hhi) {
          alts.push_back(pair(hlo, lo & 0x3FF, hi & 0x3FF));
          continue;
        }
        uint32_t hs = hlo, he = hhi;
        if ((lo & 0x3FF) != 0) { alts.push_back(pair(hlo, lo & 0x3FF, 0x3FF)); hs = hlo + 1; }
        if ((hi & 0x3FF) != 0x3FF) { alts.push_back(pair(hhi, 0, hi & 0x3FF)); he = hhi - 1; }
        if (hs <= he)
          alts.push_back(ir_.seq({lit("\\u"), hex_range(0xD800 + hs, 0xD800 + he, 4), lit("\\u"),
                                  hex_range(0xDC00, 0xDFFF, 4)}));
      }
    } else {
      // remaining control characters: \u00XX lowercase
      for (uint32_t c = 0; c < 0x20; ++c) {
        if (!set.contains(c)) continue;
        if (c == 0x08 || c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D) continue;
        static const char* hx = "0123456789abcdef";
        std::string e = "\\u00";
        e += hx[c >> 4];
        e += hx[c & 15];
        alts.push_back(lit(e));
      }
    }
    return ir_.alt(alts);
  }

  uint32_t r_jchar() {
    if (r_jchar_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("jchar"));
      if (sh != ir_.shared_rules_.end()) r_jchar_ = sh->second;
    }
    if (r_jchar_ < 0) {
      r_jchar_ = ir_.add_rule("json_char");
      ir_.shared_rules_[shared_key("jchar")] = uint32_t(r_jchar_);
      ir_.set_body(uint32_t(r_jchar_), json_char(CpSet::all(), true));
    }
    return uint32_t(r_jchar_);
  }
  // any string including quotes
  uint32_t r_string() {
    if (r_string_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("string"));
      if (sh != ir_.shared_rules_.end()) r_string_ = sh->second;
    }
    if (r_string_ < 0) {
      r_string_ = ir_.add_rule("string");
      ir_.shared_rules_[shared_key("string")] = uint32_t(r_string_);
      ir_.set_body(uint32_t(r_string_), ir_.seq({lit("\""), ir_.star(json_char(CpSet::all(), true)), lit("\"")}));
    }
    return uint32_t(r_string_);
  }
  // rest of a string after the opening quote
  uint32_t r_strtail() {
    if (r_strtail_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("strtail"));
      if (sh != ir_.shared_rules_.end()) r_strtail_ = sh->second;
    }
    if (r_strtail_ < 0) {
      r_strtail_ = ir_.add_rule("string_tail");
      ir_.shared_rules_[shared_key("strtail")] = uint32_t(r_strtail_);
      ir_.set_body(uint32_t(r_strtail_), ir_.seq({ir_.star(json_char(CpSet::all(), true)), lit("\"")}));
    }
    return uint32_t(r_strtail_);
  }
  uint32_t digits_star() { return ir_.star(ir_.byte_range('0', '9')); }
  uint32_t uint_expr() { return ir_.alt({lit("0"), ir_.seq({ir_.byte_range('1', '9'), digits_star()})}); }
  uint32_t frac_zero() { return ir_.seq({lit("."), ir_.plus(lit("0"))}); }
  uint32_t r_number() {
    if (r_number_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("number"));
      if (sh != ir_.shared_rules_.end()) r_number_ = sh->second;
    }
    if (r_number_ < 0) {
      r_number_ = ir_.add_rule("number");
      ir_.shared_rules_[shared_key("number")] = uint32_t(r_number_);
      uint32_t frac = ir_.opt(ir_.seq({lit("."), ir_.plus(ir_.byte_range('0', '9'))}));
      uint32_t exp = ir_.opt(any_exponent());
      ir_.set_body(uint32_t(r_number_), ir_.seq({ir_.opt(lit("-")), uint_expr(), frac, exp}));
    }
    return uint32_t(r_number_);
  }
  uint32_t r_integer() {
    if (r_integer_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("integer"));
      if (sh != ir_.shared_rules_.end()) r_integer_ = sh->second;
    }
    if (r_integer_ < 0) {
      r_integer_ = ir_.add_rule("integer");
      ir_.shared_rules_[shared_key("integer")] = uint32_t(r_integer_);
      std::vector<uint32_t> k{ir_.opt(lit("-")), uint_expr()};
      if (flexible()) k.push_back(ir_.opt(frac_zero()));
      ir_.set_body(uint32_t(r_integer_), ir_.seq(k));
    }
    return uint32_t(r_integer_);
  }
  uint32_t r_any() {
    if (r_any_ < 0) {
      auto sh = ir_.shared_rules_.find(shared_key("any"));
      if (sh != ir_.shared_rules_.end()) r_any_ = sh->second;
    }
    if (r_any_ < 0) {
      r_any_ = ir_.add_rule("value");
      ir_.shared_rules_[shared_key("any")] = uint32_t(r_any_);
      uint32_t v = ir_.ref(uint32_t(r_any_));
      uint32_t arr = ir_.seq({open('['), ir_.opt(ir_.seq({v, ir_.star(ir_.seq({item_sep(), v}))})), close(']')});
      uint32_t mem = ir_.seq({ir_.ref(r_string()), key_sep(), v});
      uint32_t obj = ir_.seq({open('{'), ir_.opt(ir_.seq({mem, ir_.star(ir_.seq({item_sep(), mem}))})), close('}')});
      ir_.set_body(uint32_t(r_any_), ir_.alt({lit("null"), lit("true"), lit("false"), ir_.ref(r_number()),
                                              ir_.ref(r_string()), arr, obj}));
    }
    return uint32_t(r_any_);
  }

  // ------------------------------------------------------------ errors
  [[noreturn]] void fail(const std::string& msg, const std::string& kw, const std::string& ptr) {
    throw SchemaError(msg + " at " + where(ptr), kw, ptr);
  }
  void unsupported(const std::string& kw, const std::string& ptr) {
    if (opt_.lenient) {
      if (warnings_) warnings_->push_back("ignored keyword '" + kw + "' at " + where(ptr));
      return;
    }
    throw SchemaError("unsupported keyword '" + kw + "' at " + where(ptr), kw, ptr);
  }

  uint32_t get_count(const Json& s, const char* kw, const std::string& ptr, uint32_t dflt, bool* present = nullptr) {
    const Json* v = s.find(kw);
    if (present) *present = v != nullptr;
    if (!v) return dflt;
    if (!v->is_number() || !v->number_is_integer() || v->str()[0] == '-')
      fail(std::string("'") + kw + "' must be a non-negative integer", kw, ptr);
    Dec d = to_dec(v->str());
    std::string ip, fr;
    if (!dec_parts(d, &ip, &fr) || ip.size() > 9 || std::stoull(ip) > opt_.limits.max_repetition)
      throw GrammarLimitError(std::string("'") + kw + "' = " + v->str() + " exceeds the repetition limit of " +
                              std::to_string(opt_.limits.max_repetition) + " at " + where(ptr));
    return uint32_t(std::stoull(ip));
  }

  // ------------------------------------------------------------ refs
  const Json* resolve_pointer(const std::string& frag, const std::string& base_ptr, std::string* out_ptr,
                              const std::string& ptr) {
    // frag: the part after '#', percent-decoded here
    std::string dec;
    for (size_t i = 0; i < frag.size(); ++i) {
      if (frag[i] == '%' && i + 2 < frag.size() + 0 && i + 2 <= frag.size() - 1 + 0) {
        auto hv = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
        int a = hv(frag[i + 1]), b = hv(frag[i + 2]);
        if (a >= 0 && b >= 0) { dec += char(a * 16 + b); i += 2; continue; }
      }
      dec += frag[i];
    }
    if (!dec.empty() && dec[0] != '/') {
      // "#name": a schema with "$anchor": name in the same resource
      std::string found;
      int count = 0;
      find_anchor(doc_, "", dec, base_ptr, &found, &count, 0);
      if (count == 0) fail("unresolvable $ref '#" + frag + "' (no $anchor '" + dec + "')", "$ref", ptr);
      if (count > 1) fail("ambiguous $ref '#" + frag + "' ($anchor defined more than once)", "$ref", ptr);
      *out_ptr = found;
      return at_pointer(found);
    }
    // walk from the resource root
    const Json* cur = at_pointer(base_ptr);
    if (!cur) fail("unresolvable $ref '#" + frag + "'", "$ref", ptr);
    std::string p = base_ptr;
    size_t i = 0;
    while (i < dec.size()) {
      size_t j = dec.find('/', i + 1);
      if (j == std::string::npos) j = dec.size();
      std::string tok = dec.substr(i + 1, j - i - 1);
      std::string key;
      for (size_t k = 0; k < tok.size(); ++k) {
        if (tok[k] == '~' && k + 1 < tok.size() && tok[k + 1] == '1') { key += '/'; ++k; }
        else if (tok[k] == '~' && k + 1 < tok.size() && tok[k + 1] == '0') { key += '~'; ++k; }
        else key += tok[k];
      }
      if (cur->is_object()) {
        cur = cur->find(key);
      } else if (cur->is_array()) {
        char* end = nullptr;
        unsigned long idx = std::strtoul(key.c_str(), &end, 10);
        if (key.empty() || *end || idx >= cur->items().size()) cur = nullptr;
        else cur = &cur->items()[idx];
      } else {
        cur = nullptr;
      }
      if (!cur) fail("unresolvable $ref '#" + frag + "'", "$ref", ptr);
      p += "/" + ptr_escape(key);
      i = j;
    }
    *out_ptr = p;
    return cur;
  }

  void find_anchor(const Json& j, const std::string& p, const std::string& name, const std::string& res,
                   std::string* found, int* count, int depth) {
    if (depth > opt_.limits.max_json_depth) return;
    if (j.is_object()) {
      const Json* a = j.find("$anchor");
      if (a && a->is_string() && a->str() == name && resource_root_of(p) == res) {
        *found = p;
        ++*count;
      }
      for (auto& kv : j.members()) {
        if (kv.first == "enum" || kv.first == "const") continue;
        find_anchor(kv.second, p + "/" + ptr_escape(kv.first), name, res, found, count, depth + 1);
      }
    } else if (j.is_array()) {
      for (size_t i = 0; i < j.items().size(); ++i)
        find_anchor(j.items()[i], p + "/" + std::to_string(i), name, res, found, count, depth + 1);
    }
  }

  const Json* at_pointer(const std::string& p) {
    const Json* cur = &doc_;
    size_t i = 0;
    while (cur && i < p.size()) {
      size_t j = p.find('/', i + 1);
      if (j == std::string::npos) j = p.size();
      std::string tok = p.substr(i + 1, j - i - 1), key;
      for (size_t k = 0; k < tok.size(); ++k) {
        if (tok[k] == '~' && k + 1 < tok.size()) { key += tok[k + 1] == '1' ? '/' : '~'; ++k; }
        else key += tok[k];
      }
      if (cur->is_object()) cur = cur->find(key);
      else if (cur->is_array()) {
        size_t idx = std::strtoul(key.c_str(), nullptr, 10);
        cur = idx < cur->items().size() ? &cur->items()[idx] : nullptr;
      } else cur = nullptr;
      i = j;
    }
    return cur;
  }

  // resource root (nearest ancestor-or-self with $id, excluding the document root) of a pointer
  std::string resource_root_of(const std::string& p) {
    std::string best;
    const Json* cur = &doc_;
    std::string acc;
    size_t i = 0;
    while (cur && i < p.size()) {
      size_t j = p.find('/', i + 1);
      if (j == std::string::npos) j = p.size();
      std::string tok = p.substr(i + 1, j - i - 1), key;
      for (size_t k = 0; k < tok.size(); ++k) {
        if (tok[k] == '~' && k + 1 < tok.size()) { key += tok[k + 1] == '1' ? '/' : '~'; ++k; }
        else key += tok[k];
      }
      acc += "/" + tok;
      if (cur->is_object()) cur = cur->find(key);
      else if (cur->is_array()) {
        size_t idx = std::strtoul(key.c_str(), nullptr, 10);
        cur = idx < cur->items().size() ? &cur->items()[idx] : nullptr;
      } else cur = nullptr;
      if (cur && cur->is_object() && cur->find("$id")) best = acc;
      i = j;
    }
    return best;
  }

  // $ref targets become rules compiled later from a worklist (drain_refs), so chains of
  // references never deepen the C++ stack.
  uint32_t ref_rule(const std::string& target_ptr, const Json& target) {
    auto it = ref_rules_.find(target_ptr);
    if (it != ref_rules_.end()) return it->second;
    uint32_t r = ir_.add_rule("ref:" + target_ptr);
    ref_rules_[target_ptr] = r;
    pending_.push_back({r, &target, target_ptr});
    return r;
  }

  struct PendingRef {
    uint32_t rule;
    const Json* target;
    std::string ptr;
  };
  std::vector<PendingRef> pending_;

  void drain_refs() {
    while (!pending_.empty()) {
      PendingRef p = pending_.back();
      pending_.pop_back();
      ir_.set_body(p.rule, compile(*p.target, p.ptr, resource_root_of(p.ptr), 0, false));
    }
  }

  // ------------------------------------------------------------ literals
  uint32_t string_literal(const std::string& s) {
    std::vector<uint32_t> k{lit("\"")};
    size_t i = 0;
    while (i < s.size()) {
      uint32_t cp;
      size_t n = utf8::decode(s.data() + i, s.size() - i, &cp);
      if (n == 0) { cp = 0xFFFD; n = 1; }
      k.push_back(json_char(CpSet::single(cp), flexible()));
      i += n;
    }
    k.push_back(lit("\""));
    return ir_.seq(k);
  }

  uint32_t number_literal(const Json& v, const std::string& ptr) {
    Dec d = to_dec(v.str());
    std::string ip, fr;
    if (!dec_parts(d, &ip, &fr)) fail("number literal " + v.str() + " is out of the supported range", "enum", ptr);
    std::vector<uint32_t> alts;
    if (d.digits.empty()) {
      // zero: 0, -0, with optional .0+
      uint32_t z = ir_.seq({ir_.opt(lit("-")), lit("0"), ir_.opt(frac_zero())});
      return z;
    }
    std::vector<uint32_t> k;
    if (d.neg) k.push_back(lit("-"));
    k.push_back(lit(ip));
    if (fr.empty()) k.push_back(ir_.opt(frac_zero()));
    else k.push_back(ir_.seq({lit("." + fr), ir_.star(lit("0"))}));
    return ir_.seq(k);
  }

  uint32_t literal_value(const Json& v, const std::string& ptr, int depth) {
    if (depth > opt_.limits.max_schema_depth) throw GrammarLimitError("literal value nested too deeply at " + where(ptr));
    switch (v.type()) {
      case Json::Type::Null: return lit("null");
      case Json::Type::Bool: return lit(v.as_bool() ? "true" : "false");
      case Json::Type::Number: return number_literal(v, ptr);
      case Json::Type::String: return string_literal(v.str());
      case Json::Type::Array: {
        std::vector<uint32_t> k{open('[')};
        for (size_t i = 0; i < v.items().size(); ++i) {
          if (i) k.push_back(item_sep());
          k.push_back(literal_value(v.items()[i], ptr, depth + 1));
        }
        k.push_back(close(']'));
        return ir_.seq(k);
      }
      case Json::Type::Object: {
        std::vector<Member> mem;
        std::set<std::string> seen;
        for (auto it = v.members().rbegin(); it != v.members().rend(); ++it) {
          if (!seen.insert(it->first).second) continue;
          mem.push_back({it->first, literal_value(it->second, ptr, depth + 1), true});
        }
        std::reverse(mem.begin(), mem.end());
        return object_expr(mem, false, 0, ptr);
      }
    }
    return ir_.fail();
  }

  static std::string canonical_key(const Json& v, int depth) {
    switch (v.type()) {
      case Json::Type::Null: return "z";
      case Json::Type::Bool: return v.as_bool() ? "t" : "f";
      case Json::Type::String: return "s" + std::to_string(v.str().size()) + ":" + v.str();
      case Json::Type::Number: {
        Dec d = to_dec(v.str());
        return std::string("n") + (d.neg ? "-" : "+") + d.digits + "e" + std::to_string(d.exp10) + ";";
      }
      case Json::Type::Array: {
        std::string k = "a" + std::to_string(v.items().size()) + "[";
        for (auto& x : v.items()) k += canonical_key(x, depth + 1);
        return k + "]";
      }
      case Json::Type::Object: {
        std::map<std::string, const Json*> m;
        for (auto& kv : v.members()) m[kv.first] = &kv.second;  // last duplicate wins
        std::string k = "o" + std::to_string(m.size()) + "{";
        for (auto& kv : m) k += std::to_string(kv.first.size()) + ":" + kv.first + canonical_key(*kv.second, depth + 1);
        return k + "}";
      }
    }
    return "";
  }

  bool type_matches(const Json& v, unsigned types) {
    switch (v.type()) {
      case Json::Type::Null: return types & TNull;
      case Json::Type::Bool: return types & TBool;
      case Json::Type::Number: return (types & TNum) || ((types & TInt) && v.number_is_integer());
      case Json::Type::String: return types & TStr;
      case Json::Type::Array: return types & TArr;
      case Json::Type::Object: return types & TObj;
    }
    return false;
  }

  // ------------------------------------------------------------ numbers
  // digits of the decimal range [a, b] of non-negative integers, canonical (no leading zeros)
  uint32_t fixed_range(const std::string& lo, const std::string& hi) {
    if (lo.empty()) return ir_.empty();
    if (lo == hi) return lit(lo);
    if (lo[0] == hi[0]) return ir_.seq({lit(lo.substr(0, 1)), fixed_range(lo.substr(1), hi.substr(1))});
    size_t n = lo.size();
    std::string rl = lo.substr(1), rh = hi.substr(1);
    bool lz = rl.find_first_not_of('0') == std::string::npos;
    bool h9 = rh.find_first_not_of('9') == std::string::npos;
    std::vector<uint32_t> alts;
    char s = lz ? lo[0] : char(lo[0] + 1), e = h9 ? hi[0] : char(hi[0] - 1);
    if (!lz) alts.push_back(ir_.seq({lit(lo.substr(0, 1)), fixed_range(rl, std::string(n - 1, '9'))}));
    if (s <= e) {
      std::vector<uint32_t> k{ir_.byte_range(uint8_t(s), uint8_t(e))};
      for (size_t i = 1; i < n; ++i) k.push_back(ir_.byte_range('0', '9'));
      alts.push_back(ir_.seq(k));
    }
    if (!h9) alts.push_back(ir_.seq({lit(hi.substr(0, 1)), fixed_range(std::string(n - 1, '0'), rh)}));
    return ir_.alt(alts);
  }

  static unsigned long long pow10(int n) {
    unsigned long long v = 1;
    for (int i = 0; i < n; ++i) v *= 10;
    return v;
  }
  static int ndig(unsigned long long v) {
    int n = 1;
    while (v >= 10) { v /= 10; ++n; }
    return n;
  }

  // non-negative integers in [a, b] (b == kUInf: unbounded)
  uint32_t uint_range(unsigned long long a, unsigned long long b) {
    if (b != kUInf && a > b) return ir_.fail();
    std::vector<uint32_t> alts;
    if (a == 0) {
      alts.push_back(lit("0"));
      if (b == 0) return alts[0];
      a = 1;
    }
    int la = ndig(a);
    int lb = b == kUInf ? la : ndig(b);
    for (int L = la; L <= lb; ++L) {
      unsigned long long lo = std::max(a, pow10(L - 1));
      unsigned long long hi = b == kUInf ? pow10(L) - 1 : std::min(b, pow10(L) - 1);
      if (L == 20) hi = b;  // cannot happen with |bounds| < 1e18
      if (lo <= hi) alts.push_back(fixed_range(std::to_string(lo), std::to_string(hi)));
    }
    if (b == kUInf)
      alts.push_back(ir_.seq({ir_.byte_range('1', '9'), ir_.repeat(ir_.byte_range('0', '9'), uint32_t(la), kInf)}));
    return ir_.alt(alts);
  }

  // integers in [lo, hi] (has_lo/has_hi false: unbounded)
  uint32_t int_range(bool has_lo, long long lo, bool has_hi, long long hi) {
    if (has_lo && has_hi && lo > hi) return ir_.fail();
    std::vector<uint32_t> alts;
    // non-negative part
    if (!has_hi || hi >= 0) {
      unsigned long long a = (!has_lo || lo < 0) ? 0 : (unsigned long long)lo;
      unsigned long long b = has_hi ? (unsigned long long)hi : kUInf;
      alts.push_back(uint_range(a, b));
    }
    // negative part: magnitudes
    if (!has_lo || lo < 0) {
      unsigned long long a = (has_hi && hi < 0) ? (unsigned long long)(-hi) : 1;
      unsigned long long b = has_lo ? (unsigned long long)(-lo) : kUInf;
      alts.push_back(ir_.seq({lit("-"), uint_range(a, b)}));
    }
    // -0 is 0
    if ((!has_lo || lo <= 0) && (!has_hi || hi >= 0)) alts.push_back(lit("-0"));
    return ir_.alt(alts);
  }

  struct Bound {
    bool has = false;
    const Json* v = nullptr;
    bool strict = false;
    const char* kw = "";
  };

  // tighter of two bounds (lower: larger wins; upper: smaller wins); equal values: strict wins
  // exact comparison of two decimals: -1, 0, 1
  static int cmp_dec(const Dec& a, const Dec& b) {
    auto sign = [](const Dec& d) { return d.digits.empty() ? 0 : (d.neg ? -1 : 1); };
    int sa = sign(a), sb = sign(b);
    if (sa != sb) return sa < sb ? -1 : 1;
    if (sa == 0) return 0;
    int mag;
    if (a.exp10 != b.exp10) mag = a.exp10 < b.exp10 ? -1 : 1;
    else {
      int c = a.digits.compare(b.digits);  // no trailing zeros: lexicographic == numeric
      mag = c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    return sa > 0 ? mag : -mag;
  }

  // tighter of two bounds (lower: larger wins; upper: smaller wins); equal values: strict wins
  Bound pick(const Bound& a, const Bound& b, bool lower) {
    if (!a.has) return b;
    if (!b.has) return a;
    int c = cmp_dec(to_dec(a.v->str()), to_dec(b.v->str()));
    if (c == 0) return a.strict ? a : b;
    if (lower) return c > 0 ? a : b;
    return c < 0 ? a : b;
  }

  // ---- exact decimal ranges for numbers written without exponent
  struct DecBound {
    bool has = false;
    std::string ip = "0", fr;  // integer part digits, fraction digits (no trailing zeros)
    bool strict = false;
  };

  static int digit_at(const std::string& f, size_t p) { return p < f.size() ? f[p] - '0' : 0; }

  // Fraction F (digits after '.') with lo <= F <= hi (as values 0.F), p digits written so far.
  // tl/th: the digits so far equal the bound's. At p == 0 at least one digit is required.
  uint32_t frac_part(const DecBound* lo, const DecBound* hi, size_t p, bool tl, bool th, int depth) {
    if (depth > 1000) throw GrammarLimitError("numeric bound has too many digits");
    const size_t ka = lo ? lo->fr.size() : 0, kb = hi ? hi->fr.size() : 0;
    auto digits = [&](int a, int b) { return ir_.byte_range(uint8_t('0' + a), uint8_t('0' + b)); };
    uint32_t any_tail = digits_star();
    bool end_ok = p >= 1 && (!tl || (p >= ka && !lo->strict)) && (!th || !hi->strict || p < kb);
    bool beyond = (!tl || p >= ka) && (!th || p >= kb);
    if (beyond) {
      // closed forms: the bounds' remaining digits are all zero
      if (!tl && !th) return p >= 1 ? any_tail : ir_.plus(digits(0, 9));
      if (tl && th) {  // F equals both bounds so far: only zeros keep it in range
        bool ok = !lo->strict && !hi->strict;
        if (!ok) return ir_.fail();
        return p >= 1 ? ir_.star(lit("0")) : ir_.plus(lit("0"));
      }
      if (tl) {  // above the lower bound once a non-zero digit appears
        uint32_t nz = ir_.seq({ir_.star(lit("0")), digits(1, 9), any_tail});
        if (lo->strict) return nz;
        return p >= 1 ? ir_.alt({nz, ir_.star(lit("0"))}) : ir_.plus(digits(0, 9));
      }
      // th only: any non-zero digit would exceed the upper bound
      if (hi->strict) return ir_.fail();
      return p >= 1 ? ir_.star(lit("0")) : ir_.plus(lit("0"));
    }
    int l = tl ? digit_at(lo->fr, p) : 0, h = th ? digit_at(hi->fr, p) : 9;
    std::vector<uint32_t> alts;
    if (end_ok) alts.push_back(ir_.empty());
    if (l > h) return ir_.alt(alts);
    if (l == h) {
      alts.push_back(ir_.seq({digits(l, l), frac_part(lo, hi, p + 1, tl, th, depth + 1)}));
      return ir_.alt(alts);
    }
    int free_lo = tl ? l + 1 : l, free_hi = th ? h - 1 : h;
    if (tl) alts.push_back(ir_.seq({digits(l, l), frac_part(lo, hi, p + 1, true, false, depth + 1)}));
    if (th) alts.push_back(ir_.seq({digits(h, h), frac_part(lo, hi, p + 1, false, true, depth + 1)}));
    if (free_lo <= free_hi) alts.push_back(ir_.seq({digits(free_lo, free_hi), any_tail}));
    return ir_.alt(alts);
  }

  // [integer part][optional fraction] for a non-negative decimal in [lo, hi] (hi may be absent)
  uint32_t nonneg_range(const DecBound& lo, const DecBound* hi) {
    unsigned long long ai = std::stoull(lo.ip);
    auto fraction = [&](const DecBound* l, const DecBound* h) {
      // absent fraction = value .0
      std::vector<uint32_t> alts;
      bool absent_ok = (!l || (l->fr.empty() && !l->strict)) && (!h || !h->strict || !h->fr.empty());
      if (absent_ok) alts.push_back(ir_.empty());
      alts.push_back(ir_.seq({lit("."), frac_part(l, h, 0, l != nullptr, h != nullptr, 0)}));
      return ir_.alt(alts);
    };
    uint32_t any_frac = ir_.opt(ir_.seq({lit("."), ir_.plus(ir_.byte_range('0', '9'))}));
    std::vector<uint32_t> alts;
    if (!hi) {
      alts.push_back(ir_.seq({uint_range(ai + 1, kUInf), any_frac}));
      alts.push_back(ir_.seq({lit(lo.ip), fraction(&lo, nullptr)}));
      return ir_.alt(alts);
    }
    unsigned long long bi = std::stoull(hi->ip);
    if (ai > bi) return ir_.fail();
    if (ai == bi) return ir_.seq({lit(lo.ip), fraction(&lo, hi)});
    if (ai + 1 <= bi - 1) alts.push_back(ir_.seq({uint_range(ai + 1, bi - 1), any_frac}));
    alts.push_back(ir_.seq({lit(lo.ip), fraction(&lo, nullptr)}));
    alts.push_back(ir_.seq({lit(hi->ip), fraction(nullptr, hi)}));
    return ir_.alt(alts);
  }

  DecBound make_bound(const Bound& b, const std::string& ptr) {
    DecBound d;
    d.has = true;
    d.strict = b.strict;
    Dec x = to_dec(b.v->str());
    std::string ip, fr;
    if (!dec_parts(x, &ip, &fr) || ip.size() > 18 || fr.size() > 300)
      fail(std::string("'") + b.kw + "' = " + b.v->str() + " is outside the supported range (|bound| < 1e18)", b.kw, ptr);
    d.ip = ip;
    d.fr = fr;
    return d;
  }

  uint32_t numeric(const Json& s, const std::string& ptr, bool integer_only) {
    Bound lo, hi;
    auto get = [&](const char* kw, bool strict, Bound& into, bool lower) {
      const Json* v = s.find(kw);
      if (!v) return;
      if (!v->is_number()) fail(std::string("'") + kw + "' must be a number", kw, ptr);
      Bound b;
      b.has = true;
      b.v = v;
      b.strict = strict;
      b.kw = kw;
      into = pick(into, b, lower);
    };
    get("minimum", false, lo, true);
    get("exclusiveMinimum", true, lo, true);
    get("maximum", false, hi, false);
    get("exclusiveMaximum", true, hi, false);
    if (!lo.has && !hi.has) {
      if (!integer_only) return ir_.ref(r_number());  // exponents included
      if (!flexible()) return ir_.ref(r_integer());
      return ir_.alt({ir_.ref(r_integer()), int_exponent_forms(false, 0, false, 0)});
    }
    auto too_big = [&](const Bound& b) {
      fail(std::string("'") + b.kw + "' = " + b.v->str() + " is outside the supported range (|bound| < 1e18)", b.kw, ptr);
    };
    if (integer_only) {
      long long l = 0, h = 0;
      if (lo.has) {
        Dec d = to_dec(lo.v->str());
        if (lo.strict) {
          if (!dec_floor_ceil(d, false, &l)) too_big(lo);
          l += 1;
        } else if (!dec_floor_ceil(d, true, &l)) {
          too_big(lo);
        }
      }
      if (hi.has) {
        Dec d = to_dec(hi.v->str());
        if (hi.strict) {
          if (!dec_floor_ceil(d, true, &h)) too_big(hi);
          h -= 1;
        } else if (!dec_floor_ceil(d, false, &h)) {
          too_big(hi);
        }
      }
      uint32_t r = int_range(lo.has, l, hi.has, h);
      if (flexible()) r = ir_.alt({ir_.seq({r, ir_.opt(frac_zero())}), int_exponent_forms(lo.has, l, hi.has, h)});
      return r;
    }
    uint32_t r = real_range(lo, hi, ptr);
    if (flexible()) r = ir_.alt({r, real_exponent_forms(lo, hi)});
    return r;
  }

  // ---- numbers written with an exponent (validation mode: JSON Schema compares values, so
  // 1e2 is the integer 100). Exact for exponents within +-kExponentForms; beyond, only a
  // zero mantissa (an integer mantissa for integers); never a value outside the bounds.
  static constexpr int kExponentForms = 20;

  uint32_t one_of(const char* chars) {
    ByteSet b;
    for (const char* c = chars; *c; ++c) b.set(uint8_t(*c));
    return ir_.bytes(b);
  }

  // the exponent part "e+002" of exactly the value e
  uint32_t exponent_text(int e) {
    uint32_t sign = e > 0 ? ir_.opt(lit("+")) : e < 0 ? lit("-") : ir_.opt(one_of("+-"));
    return ir_.seq({one_of("eE"), sign, ir_.star(lit("0")), lit(e == 0 ? std::string("0") : std::to_string(std::abs(e)))});
  }

  uint32_t any_exponent() { return ir_.seq({one_of("eE"), ir_.opt(one_of("+-")), ir_.plus(ir_.byte_range('0', '9'))}); }

  // integers in [l, h] other than 0
  uint32_t nonzero_ints(bool has_lo, long long l, bool has_hi, long long h) {
    std::vector<uint32_t> alts;
    long long lp = has_lo ? std::max(l, 1LL) : 1;
    if (!has_hi || h >= lp) alts.push_back(int_range(true, lp, has_hi, h));
    long long hn = has_hi ? std::min(h, -1LL) : -1;
    if (!has_lo || l <= hn) alts.push_back(int_range(has_lo, l, true, hn));
    return ir_.alt(alts);
  }

  // Integers in [l, h] as m[.0+]e<E>: m * 10^E in range, m an integer (1.5e1 is not read).
  uint32_t int_exponent_forms(bool has_lo, long long l, bool has_hi, long long h) {
    auto floor_div = [](long long a, long long b) { return a / b - ((a % b != 0) && (a < 0)); };
    auto ceil_div = [](long long a, long long b) { return a / b + ((a % b != 0) && (a > 0)); };
    std::vector<uint32_t> alts;
    if ((!has_lo || l <= 0) && (!has_hi || h >= 0))  // 0, -0.0, ... with any exponent
      alts.push_back(ir_.seq({ir_.opt(lit("-")), lit("0"), ir_.opt(frac_zero()), any_exponent()}));
    const uint32_t in_range = nonzero_ints(has_lo, l, has_hi, h);
    if (ir_.is_fail(in_range)) return ir_.alt(alts);
    long long p = 1;
    for (int e = 0; e <= kExponentForms && e <= 18; ++e, p *= 10) {
      uint32_t m = (!has_lo && !has_hi) ? in_range
                                        : nonzero_ints(has_lo, has_lo ? ceil_div(l, p) : 0, has_hi, has_hi ? floor_div(h, p) : 0);
      if (!ir_.is_fail(m)) alts.push_back(ir_.seq({m, ir_.opt(frac_zero()), exponent_text(e)}));
    }
    for (int k = 1; k <= kExponentForms; ++k)  // m = n * 10^k for an n in range
      alts.push_back(ir_.seq({in_range, lit(std::string(size_t(k), '0')), ir_.opt(frac_zero()), exponent_text(-k)}));
    return ir_.alt(alts);
  }

  // Reals in the bounds as <decimal>e<E>: the decimal in the bounds shifted by -E.
  uint32_t real_exponent_forms(const Bound& lo, const Bound& hi) {
    std::vector<uint32_t> alts;
    std::vector<std::unique_ptr<Json>> shifted;  // the shifted bounds' numbers, alive while compiling
    auto shift = [&](const Bound& b, int e, Bound* out) {
      *out = b;
      if (!b.has) return true;
      Dec d = to_dec(b.v->str());
      std::string lexeme = d.digits.empty() ? std::string("0")
                                            : (d.neg ? "-0." : "0.") + d.digits + "e" + std::to_string(d.exp10 - e);
      std::string ip, fr;
      if (!dec_parts(to_dec(lexeme), &ip, &fr) || ip.size() > 18 || fr.size() > 300) return false;
      shifted.push_back(std::make_unique<Json>(Json::number(lexeme)));
      out->v = shifted.back().get();
      return true;
    };
    for (int e = -kExponentForms; e <= kExponentForms; ++e) {
      Bound l, h;
      if (!shift(lo, e, &l) || !shift(hi, e, &h)) continue;  // a bound beyond the supported range
      uint32_t m = real_range(l, h, "");
      if (!ir_.is_fail(m)) alts.push_back(ir_.seq({m, exponent_text(e)}));
    }
    return ir_.alt(alts);
  }

  // Reals in the bounds written without an exponent: exact decimal ranges.
  uint32_t real_range(const Bound& lo, const Bound& hi, const std::string& ptr) {
    DecBound L = lo.has ? make_bound(lo, ptr) : DecBound(), U = hi.has ? make_bound(hi, ptr) : DecBound();
    const bool lneg = lo.has && to_dec(lo.v->str()).neg, uneg = hi.has && to_dec(hi.v->str()).neg;
    std::vector<uint32_t> alts;
    // x >= 0 part: [max(lo, 0), hi]
    if (!hi.has || !uneg) {
      DecBound l0;
      l0.has = true;
      if (lo.has && !lneg) l0 = L;
      alts.push_back(nonneg_range(l0, hi.has ? &U : nullptr));
    }
    // x < 0 part: magnitude m in [|hi| (if hi < 0) or >0, |lo|]
    if (!lo.has || lneg) {
      DecBound mlo;
      mlo.has = true;
      mlo.strict = true;  // m > 0
      if (hi.has && uneg) mlo = U;  // x <= hi  <=>  m >= |hi|
      uint32_t body = nonneg_range(mlo, lo.has ? &L : nullptr);
      alts.push_back(ir_.seq({lit("-"), body}));
    }
    // -0, -0.0... equal 0
    bool zero_ok = (!lo.has || lneg || (to_dec(lo.v->str()).digits.empty() && !lo.strict)) &&
                   (!hi.has || (!uneg && !(to_dec(hi.v->str()).digits.empty() && hi.strict)));
    if (zero_ok) alts.push_back(ir_.seq({lit("-0"), ir_.opt(frac_zero())}));
    return ir_.alt(alts);
  }

  // ------------------------------------------------------------ strings
  uint32_t label_expr(const CpSet& set) {
    if (set.r.size() == 1 && set.r[0].first == 0 && set.r[0].second == 0x10FFFF) return json_char(set, true);
    if (set.r.size() <= 2) return json_char(set, true);
    auto it = label_rules_.find(set.r);
    if (it != label_rules_.end()) return ir_.ref(it->second);
    uint32_t r = ir_.add_rule("char_class");
    ir_.set_body(r, json_char(set, true));
    label_rules_[set.r] = r;
    return ir_.ref(r);
  }

  uint32_t string_type(const Json& s, const std::string& ptr) {
    uint32_t mn = get_count(s, "minLength", ptr, 0);
    bool has_max;
    uint32_t mx = get_count(s, "maxLength", ptr, kInf, &has_max);
    const Json* pat = s.find("pattern");
    const Json* fmt = s.find("format");
    bool use_fmt = false;
    if (fmt && !opt_.assert_format) {
      if (!fmt->is_string()) fail("'format' must be a string", "format", ptr);
      fmt = nullptr;  // annotation only
    }
    if (fmt) {
      if (!fmt->is_string()) fail("'format' must be a string", "format", ptr);
      if (format_regex(fmt->str())) use_fmt = true;
      else if (opt_.lenient) {
        if (warnings_) warnings_->push_back("ignored format '" + fmt->str() + "' at " + where(ptr));
      } else {
        fail("unsupported format '" + fmt->str() + "'", "format", ptr);
      }
    }
    if (pat && !pat->is_string()) fail("'pattern' must be a string", "pattern", ptr);
    if (!pat && !use_fmt) {
      if (mn == 0 && !has_max) return ir_.ref(r_string());
      if (has_max && mn > mx) return ir_.fail();
      uint32_t ch = (has_max && mx <= 8) ? json_char(CpSet::all(), true) : ir_.ref(r_jchar());
      return ir_.seq({lit("\""), ir_.repeat(ch, mn, mx), lit("\"")});
    }
    CpNfa nfa;
    bool have = false;
    try {
      if (pat) {
        nfa = regex_to_nfa(pat->str(), true, opt_.limits);
        have = true;
      }
      if (use_fmt) {
        CpNfa f = regex_to_nfa(format_regex(fmt->str()), true, opt_.limits);
        nfa = have ? nfa_intersect(nfa, f, opt_.limits) : f;
        have = true;
      }
    } catch (const RegexError& e) {
      fail(std::string("invalid or unsupported 'pattern': ") + e.what(), "pattern", ptr);
    }
    if (mn > 0 || has_max) nfa = nfa_with_length(nfa, mn, has_max ? mx : kInf, opt_.limits);
    uint32_t body = nfa_to_ir(ir_, nfa, [&](const CpSet& set) { return label_expr(set); });
    return ir_.seq({lit("\""), body, lit("\"")});
  }

  // ------------------------------------------------------------ arrays
  uint32_t as_rule(uint32_t expr, const std::string& name) {
    uint32_t r = ir_.add_rule(name);
    ir_.set_body(r, expr);
    return ir_.ref(r);
  }

  uint32_t array_type(const Json& s, const std::string& ptr, const std::string& res, int depth) {
    uint32_t mn = get_count(s, "minItems", ptr, 0);
    bool has_max;
    uint32_t mx = get_count(s, "maxItems", ptr, kInf, &has_max);
    if (!has_max) mx = kInf;
    std::vector<uint32_t> prefix;
    if (const Json* p = s.find("prefixItems")) {
      if (!p->is_array()) fail("'prefixItems' must be an array", "prefixItems", ptr);
      for (size_t i = 0; i < p->items().size(); ++i)
        prefix.push_back(compile(p->items()[i], ptr + "/prefixItems/" + std::to_string(i), res, depth + 1, false));
    }
    uint32_t items;
    if (const Json* it = s.find("items")) {
      if (it->is_bool() && !it->as_bool()) items = ir_.fail();
      else items = as_rule(compile(*it, ptr + "/items", res, depth + 1, false), "items:" + ptr);
    } else {
      items = ir_.ref(r_any());
    }
    const uint32_t p = uint32_t(prefix.size());
    auto elem = [&](uint32_t i) { return i < p ? prefix[i] : items; };
    // L(i): elements from position i on, given i elements already written (i >= 1)
    auto tail_from = [&](uint32_t i) -> uint32_t {
      uint32_t lo = mn > i ? mn - i : 0;
      uint32_t hi = mx == kInf ? kInf : (mx > i ? mx - i : 0);
      if (hi != kInf && lo > hi) return ir_.fail();
      return ir_.repeat(ir_.seq({item_sep(), items}), lo, hi);
    };
    uint32_t L = tail_from(std::max<uint32_t>(p, 1));
    for (uint32_t i = p; i-- > 1;) {
      // position i is a prefix position
      uint32_t stop = i >= mn ? ir_.empty() : ir_.fail();
      uint32_t more = i < mx ? ir_.seq({item_sep(), elem(i), L}) : ir_.fail();
      L = ir_.alt({stop, more});
    }
    uint32_t content;
    uint32_t none = mn == 0 ? ir_.empty() : ir_.fail();
    if (mx == 0) content = none;
    else content = ir_.alt({none, ir_.seq({elem(0), L})});
    return ir_.seq({open('['), content, close(']')});
  }

  // ------------------------------------------------------------ objects
  struct Member {
    std::string name;
    uint32_t value;
    bool required;
  };

  uint32_t key_literal(const std::string& name) { return string_literal(name); }

  // a key string that is none of `names`
  uint32_t key_not_in(const std::vector<std::string>& names) {
    if (names.empty()) return ir_.ref(r_string());
    // code point trie
    struct TN {
      std::map<uint32_t, int> kids;
      bool terminal = false;
    };
    std::vector<TN> t(1);
    for (auto& n : names) {
      int cur = 0;
      size_t i = 0;
      while (i < n.size()) {
        uint32_t cp;
        size_t k = utf8::decode(n.data() + i, n.size() - i, &cp);
        if (k == 0) { cp = 0xFFFD; k = 1; }
        i += k;
        auto it = t[size_t(cur)].kids.find(cp);
        if (it == t[size_t(cur)].kids.end()) {
          t.emplace_back();
          int id = int(t.size() - 1);
          t[size_t(cur)].kids[cp] = id;
          cur = id;
        } else {
          cur = it->second;
        }
      }
      t[size_t(cur)].terminal = true;
    }
    // build bottom-up (children have larger ids)
    std::vector<uint32_t> ex(t.size());
    uint32_t tail = ir_.ref(r_strtail());
    for (size_t i = t.size(); i-- > 0;) {
      std::vector<uint32_t> alts;
      CpSet kids;
      for (auto& kv : t[i].kids) {
        kids.add(kv.first, kv.first);
        alts.push_back(ir_.seq({json_char(CpSet::single(kv.first), flexible()), ex[size_t(kv.second)]}));
      }
      alts.push_back(ir_.seq({json_char(kids.complement(), true), tail}));
      if (!t[i].terminal) alts.push_back(lit("\""));
      ex[i] = ir_.alt(alts);
    }
    return ir_.seq({lit("\""), ex[0]});
  }

  // members: listed properties (value expressions); addl: expression for additional values
  // or fail when not allowed.
  uint32_t object_expr(const std::vector<Member>& mem, bool addl_allowed, uint32_t addl_value,
                       const std::string& ptr) {
    std::vector<std::string> names;
    for (auto& m : mem) names.push_back(m.name);
    uint32_t addl_member = addl_allowed ? ir_.seq({key_not_in(names), key_sep(), addl_value}) : ir_.fail();
    if (opt_.property_order == PropertyOrder::Schema) {
      const size_t k = mem.size();
      std::vector<uint32_t> ms(k);
      for (size_t i = 0; i < k; ++i) ms[i] = ir_.seq({key_literal(mem[i].name), key_sep(), mem[i].value});
      // T(i): members i.. after at least one written
      std::vector<uint32_t> T(k + 1);
      T[k] = addl_allowed ? ir_.star(ir_.seq({item_sep(), addl_member})) : ir_.empty();
      for (size_t i = k; i-- > 0;) {
        uint32_t m = ir_.seq({item_sep(), ms[i]});
        if (!mem[i].required) m = ir_.opt(m);
        T[i] = ir_.seq({m, T[i + 1]});
        if (k > 6) T[i] = as_rule(T[i], "members:" + ptr);
      }
      std::vector<uint32_t> first;
      bool req_seen = false;
      for (size_t j = 0; j < k && !req_seen; ++j) {
        first.push_back(ir_.seq({ms[j], T[j + 1]}));
        if (mem[j].required) req_seen = true;
      }
      if (!req_seen) {
        first.push_back(ir_.empty());
        if (addl_allowed) first.push_back(ir_.seq({addl_member, T[k]}));
      }
      return ir_.seq({open('{'), ir_.alt(first), close('}')});
    }
    // any order: states = subsets of the required members seen
    std::vector<size_t> req;
    for (size_t i = 0; i < mem.size(); ++i)
      if (mem[i].required) req.push_back(i);
    if (req.size() > opt_.limits.max_required_for_any_order)
      throw GrammarLimitError("object with " + std::to_string(req.size()) +
                              " required properties exceeds the any-order limit of " +
                              std::to_string(opt_.limits.max_required_for_any_order) + " at " + where(ptr));
    const size_t nS = size_t(1) << req.size();
    const uint32_t full = uint32_t(nS - 1);
    std::vector<uint32_t> O(nS);
    for (size_t S = 0; S < nS; ++S) O[S] = ir_.add_rule("object_state:" + ptr);
    std::vector<uint32_t> mrule(mem.size());
    std::vector<int> req_bit(mem.size(), -1);
    for (size_t i = 0; i < req.size(); ++i) req_bit[req[i]] = int(i);
    for (size_t i = 0; i < mem.size(); ++i)
      mrule[i] = nS > 1 ? as_rule(ir_.seq({key_literal(mem[i].name), key_sep(), mem[i].value}), "member:" + ptr)
                        : ir_.seq({key_literal(mem[i].name), key_sep(), mem[i].value});
    uint32_t addl_m = addl_allowed ? (nS > 1 ? as_rule(addl_member, "additional:" + ptr) : addl_member) : ir_.fail();
    auto choices = [&](uint32_t S) {
      std::vector<uint32_t> alts;
      for (size_t i = 0; i < mem.size(); ++i) {
        uint32_t S2 = req_bit[i] >= 0 ? (S | (1u << req_bit[i])) : S;
        alts.push_back(ir_.seq({mrule[i], ir_.ref(O[S2])}));
      }
      if (addl_allowed) alts.push_back(ir_.seq({addl_m, ir_.ref(O[S])}));
      return ir_.alt(alts);
    };
    for (uint32_t S = 0; S < nS; ++S) {
      uint32_t end = S == full ? close('}') : ir_.fail();
      ir_.set_body(O[S], ir_.alt({end, ir_.seq({item_sep(), choices(S)})}));
    }
    uint32_t empty_obj = req.empty() ? lit("}") : ir_.fail();
    return ir_.seq({open('{'), ir_.alt({empty_obj, choices(0)})});
  }

  uint32_t object_type(const Json& s, const std::string& ptr, const std::string& res, int depth) {
    std::vector<Member> mem;
    std::map<std::string, size_t> idx;
    if (const Json* props = s.find("properties")) {
      if (!props->is_object()) fail("'properties' must be an object", "properties", ptr);
      for (auto& kv : props->members()) {
        uint32_t v = compile(kv.second, ptr + "/properties/" + ptr_escape(kv.first), res, depth + 1, false);
        auto it = idx.find(kv.first);
        if (it != idx.end()) {
          mem[it->second].value = v;
          continue;
        }
        idx[kv.first] = mem.size();
        mem.push_back({kv.first, v, false});
      }
    }
    bool addl_allowed = opt_.additional_properties_default;
    bool closed_by_schema = false;  // "additionalProperties": false, not only the default
    uint32_t addl_value = 0;
    bool addl_schema = false;
    if (const Json* ap = s.find("additionalProperties")) {
      if (ap->is_bool()) {
        addl_allowed = ap->as_bool();
        closed_by_schema = !addl_allowed;
      } else {
        addl_allowed = true;
        addl_schema = true;
        addl_value = as_rule(compile(*ap, ptr + "/additionalProperties", res, depth + 1, false), "additional_value");
      }
    }
    if (addl_allowed && !addl_schema) addl_value = ir_.ref(r_any());
    if (const Json* req = s.find("required")) {
      if (!req->is_array()) fail("'required' must be an array of strings", "required", ptr);
      for (auto& r : req->items()) {
        if (!r.is_string()) fail("'required' must be an array of strings", "required", ptr);
        auto it = idx.find(r.str());
        if (it != idx.end()) {
          mem[it->second].required = true;
        } else {
          // required but not listed: validated by additionalProperties. Where objects
          // are closed by default only (tool arguments), the name is still required and
          // takes any value: the schema asks for it (BFCL lists such names).
          if (closed_by_schema) return ir_.fail();
          idx[r.str()] = mem.size();
          mem.push_back({r.str(), addl_allowed ? addl_value : ir_.ref(r_any()), true});
        }
      }
    }
    // drop optional members whose value is impossible (e.g. "a": false)
    std::vector<Member> kept;
    for (auto& m : mem) {
      if (ir_.is_fail(m.value)) {
        if (m.required) return ir_.fail();
        // still must exclude the name from additional properties
        kept.push_back(m);
        continue;
      }
      kept.push_back(m);
    }
    return object_expr(kept, addl_allowed, addl_value, ptr);
  }

  // ------------------------------------------------------------ schema
  uint32_t compile(const Json& s, const std::string& ptr, const std::string& res_in, int depth, bool skip_enum) {
    uint32_t e = compile_node(s, ptr, res_in, depth, skip_enum);
    if (ir_.is_fail(e) && unsat_reason_.empty()) unsat_reason_ = "at " + where(ptr) + ", " + empty_cause(s);
    return e;
  }

  // Names the keywords that leave a subschema without any value.
  static std::string empty_cause(const Json& s) {
    if (s.is_bool()) return "the schema is 'false'";
    auto num = [&](const char* k) { const Json* v = s.find(k); return v && v->is_number() ? v : nullptr; };
    auto pair = [&](const char* a, const char* b) -> std::string {
      const Json* x = num(a);
      const Json* y = num(b);
      if (x && y && x->number_value() > y->number_value())
        return std::string("'") + a + "' " + x->dump() + " is greater than '" + b + "' " + y->dump();
      return "";
    };
    if (const Json* e = s.find("enum"))
      if (e->is_array()) return e->items().empty() ? "'enum' is empty" : "no member of 'enum' fits the rest of the schema";
    if (s.find("const")) return "'const' does not fit the rest of the schema";
    for (auto [a, b] : {std::pair{"minLength", "maxLength"}, {"minItems", "maxItems"}, {"minProperties", "maxProperties"},
                        {"minimum", "maximum"}, {"exclusiveMinimum", "maximum"}, {"minimum", "exclusiveMaximum"},
                        {"exclusiveMinimum", "exclusiveMaximum"}}) {
      std::string r = pair(a, b);
      if (!r.empty()) return r;
    }
    std::string ks;
    for (auto& kv : s.members())
      if (!is_annotation(kv.first)) ks += (ks.empty() ? "'" : ", '") + kv.first + "'";
    return ks.empty() ? "the schema admits no value" : "the keywords " + ks + " together admit no value";
  }

  uint32_t compile_node(const Json& s, const std::string& ptr, const std::string& res_in, int depth, bool skip_enum) {
    if (depth > opt_.limits.max_schema_depth)
      throw GrammarLimitError("schema nested deeper than " + std::to_string(opt_.limits.max_schema_depth) + " at " +
                              where(ptr));
    if (s.is_bool()) return s.as_bool() ? ir_.ref(r_any()) : ir_.fail();
    if (!s.is_object()) fail("a schema must be an object or a boolean", "", ptr);
    std::string res = res_in;
    if (!ptr.empty() && s.find("$id")) res = ptr;
    // keyword check
    bool constraining_besides_ref = false;
    std::string first_sibling;
    for (auto& kv : s.members()) {
      const std::string& k = kv.first;
      if (is_annotation(k)) continue;
      if (!is_supported(k)) {
        unsupported(k, ptr);
        continue;
      }
      if (k != "$ref") {
        if (!constraining_besides_ref) first_sibling = k;
        constraining_besides_ref = true;
      }
    }
    if (const Json* sc = s.find("$schema")) {
      static const char* known[] = {"https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2019-09/schema",
                                    "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema",
                                    "http://json-schema.org/draft-06/schema#", "http://json-schema.org/draft-04/schema#",
                                    "https://json-schema.org/draft/2020-12/schema#"};
      bool ok = false;
      if (sc->is_string())
        for (auto* k : known)
          if (sc->str() == k) ok = true;
      if (!ok) {
        if (opt_.lenient) {
          if (warnings_) warnings_->push_back("ignored keyword '$schema' (unknown metaschema) at " + where(ptr));
        } else {
          fail("unsupported $schema '" + (sc->is_string() ? sc->str() : std::string("?")) +
                   "' (custom metaschemas/vocabularies are not supported)",
               "$schema", ptr);
        }
      }
    }
    if (const Json* ref = s.find("$ref")) {
      if (!ref->is_string()) fail("'$ref' must be a string", "$ref", ptr);
      const std::string& r = ref->str();
      if (r.empty() || r[0] != '#') fail("remote $ref '" + r + "' is not supported", "$ref", ptr);
      std::string target_ptr;
      const Json* target = resolve_pointer(r.substr(1), res, &target_ptr, ptr);
      if (!constraining_besides_ref) return ir_.ref(ref_rule(target_ptr, *target));
      // $ref with sibling keywords: both apply (allOf); merged when they do not overlap
      if (target->is_bool()) {
        if (!target->as_bool()) return ir_.fail();
        Json rest = Json::object();
        for (auto& kv : s.members())
          if (kv.first != "$ref") rest.members().push_back(kv);
        return compile(rest, ptr, res, depth + 1, skip_enum);
      }
      if (!target->is_object()) fail("$ref target is not a schema", "$ref", ptr);
      if (resource_root_of(target_ptr) != res)
        fail("'$ref' alongside '" + first_sibling + "' across schema resources is not supported", "$ref", ptr);
      Json merged = merge(s, "$ref", *target, ptr);
      return compile(merged, ptr, res, depth + 1, skip_enum);
    }
    // type set
    unsigned types = TAll;
    if (const Json* t = s.find("type")) {
      if (t->is_string()) {
        types = type_bit(t->str());
        if (!types) fail("unknown type '" + t->str() + "'", "type", ptr);
      } else if (t->is_array()) {
        types = 0;
        for (auto& x : t->items()) {
          unsigned b = x.is_string() ? type_bit(x.str()) : 0;
          if (!b) fail("invalid entry in 'type'", "type", ptr);
          types |= b;
        }
      } else {
        fail("'type' must be a string or an array", "type", ptr);
      }
    }
    // enum / const: literal alternatives filtered by the rest of the schema
    const Json* en = skip_enum ? nullptr : s.find("enum");
    const Json* cn = skip_enum ? nullptr : s.find("const");
    if (en || cn) {
      std::vector<const Json*> vals;
      if (en) {
        if (!en->is_array()) fail("'enum' must be an array", "enum", ptr);
        if (en->items().size() > opt_.limits.max_enum_members)
          throw GrammarLimitError("'enum' has " + std::to_string(en->items().size()) + " members, more than the limit of " +
                                  std::to_string(opt_.limits.max_enum_members) + " at " + where(ptr));
        for (auto& v : en->items()) vals.push_back(&v);
      }
      if (cn) {
        if (en) {
          std::vector<const Json*> k;
          for (auto* v : vals)
            if (v->equals(*cn)) k.push_back(v);
          vals = k;
        } else {
          vals.push_back(cn);
        }
      }
      std::vector<const Json*> ok;
      for (auto* v : vals)
        if (type_matches(*v, types)) ok.push_back(v);
      bool other = false;
      for (auto& kv : s.members())
        if (is_supported(kv.first) && kv.first != "enum" && kv.first != "const" && kv.first != "type") other = true;
      if (other && !ok.empty()) ok = filter_by_rest(s, ptr, res, ok);
      // dedupe equal values (JSON Schema equality: 1 == 1.0, key order ignored)
      std::vector<const Json*> uniq;
      std::set<std::string> seen_keys;
      for (auto* v : ok)
        if (seen_keys.insert(canonical_key(*v, 0)).second) uniq.push_back(v);
      std::vector<uint32_t> alts;
      for (auto* v : uniq) alts.push_back(literal_value(*v, ptr, depth + 1));
      return ir_.alt(alts);
    }
    // anyOf / oneOf
    for (const char* comb : {"anyOf", "oneOf"}) {
      const Json* a = s.find(comb);
      if (!a) continue;
      if (!a->is_array() || a->items().empty()) fail(std::string("'") + comb + "' must be a non-empty array", comb, ptr);
      bool base_constraining = false;
      for (auto& kv : s.members())
        if (is_supported(kv.first) && kv.first != comb) base_constraining = true;
      if (std::string(comb) == "oneOf" && opt_.strict_one_of) check_one_of_disjoint(s, *a, ptr);
      std::vector<uint32_t> alts;
      for (size_t i = 0; i < a->items().size(); ++i) {
        const Json& br = a->items()[i];
        std::string bp = ptr + "/" + comb + "/" + std::to_string(i);
        if (!base_constraining) {
          alts.push_back(compile(br, bp, res, depth + 1, false));
          continue;
        }
        if (br.is_bool()) {
          if (!br.as_bool()) continue;
          Json merged = Json::object();
          for (auto& kv : s.members())
            if (kv.first != comb) merged.members().push_back(kv);
          alts.push_back(compile_merged(merged, ptr, bp, res, depth));
          continue;
        }
        if (!br.is_object()) fail("a schema must be an object or a boolean", "", bp);
        Json merged = merge(s, comb, br, bp);
        alts.push_back(compile_merged(merged, ptr, bp, res, depth));
      }
      return ir_.alt(alts);
    }
    // per-type branches
    std::vector<uint32_t> alts;
    if (types & TNull) alts.push_back(lit("null"));
    if (types & TBool) alts.push_back(ir_.alt({lit("true"), lit("false")}));
    if (types & TNum) alts.push_back(numeric(s, ptr, false));
    else if (types & TInt) alts.push_back(numeric(s, ptr, true));
    if (types & TStr) alts.push_back(string_type(s, ptr));
    if (types & TArr) alts.push_back(array_type(s, ptr, res, depth));
    if (types & TObj) alts.push_back(object_type(s, ptr, res, depth));
    return ir_.alt(alts);
  }

  // ---- oneOf disjointness (strict mode)
  struct BranchSig {
    bool never = false;           // false schema
    unsigned types = TAll;
    bool has_lits = false;
    std::vector<const Json*> lits;
    std::map<std::string, std::vector<const Json*>> disc;  // required property -> literal values
  };

  static unsigned types_of(const Json& s) {
    const Json* t = s.find("type");
    if (!t) return TAll;
    unsigned b = 0;
    if (t->is_string()) b = type_bit(t->str());
    else if (t->is_array())
      for (auto& x : t->items()) b |= x.is_string() ? type_bit(x.str()) : 0;
    return b ? b : TAll;
  }

  static bool literals_of(const Json& s, std::vector<const Json*>* out) {
    if (const Json* c = s.find("const")) { out->push_back(c); return true; }
    if (const Json* e = s.find("enum"))
      if (e->is_array()) {
        for (auto& v : e->items()) out->push_back(&v);
        return true;
      }
    return false;
  }

  BranchSig sig_of(const Json& br, unsigned base_types) {
    BranchSig g;
    if (br.is_bool()) {
      g.never = !br.as_bool();
      g.types = base_types;
      return g;
    }
    if (!br.is_object() || br.find("$ref")) { g.types = base_types; return g; }
    g.types = types_of(br) & base_types;
    g.has_lits = literals_of(br, &g.lits);
    if (g.has_lits) {
      unsigned lt = 0;
      for (auto* v : g.lits) lt |= v->is_null() ? TNull : v->is_bool() ? TBool : v->is_number() ? (v->number_is_integer() ? TInt : TNum) : v->is_string() ? TStr : v->is_array() ? TArr : TObj;
      g.types &= (lt & TNum) ? (lt | unsigned(TInt)) : lt;
    }
    const Json* req = br.find("required");
    const Json* props = br.find("properties");
    if (req && req->is_array() && props && props->is_object())
      for (auto& r : req->items()) {
        if (!r.is_string()) continue;
        const Json* ps = props->find(r.str());
        std::vector<const Json*> l;
        if (ps && ps->is_object() && !ps->find("$ref") && literals_of(*ps, &l)) g.disc[r.str()] = l;
      }
    return g;
  }

  static bool lits_disjoint(const std::vector<const Json*>& a, const std::vector<const Json*>& b) {
    for (auto* x : a)
      for (auto* y : b)
        if (x->equals(*y)) return false;
    return true;
  }

  void check_one_of_disjoint(const Json& s, const Json& arr, const std::string& ptr) {
    unsigned base = types_of(s);
    std::vector<BranchSig> sigs;
    for (auto& br : arr.items()) sigs.push_back(sig_of(br, base));
    for (size_t i = 0; i < sigs.size(); ++i)
      for (size_t j = i + 1; j < sigs.size(); ++j) {
        const BranchSig &a = sigs[i], &b = sigs[j];
        if (a.never || b.never) continue;
        unsigned ta = a.types, tb = b.types;
        if (!(ta & tb)) continue;
        if (a.has_lits && b.has_lits && lits_disjoint(a.lits, b.lits)) continue;
        bool disc = false;
        if (!((ta | tb) & ~TObj))
          for (auto& kv : a.disc) {
            auto it = b.disc.find(kv.first);
            if (it != b.disc.end() && lits_disjoint(kv.second, it->second)) disc = true;
          }
        if (disc) continue;
        fail("oneOf branches " + std::to_string(i) + " and " + std::to_string(j) +
                 " may overlap and oneOf exclusivity is not enforced (strict_one_of)",
             "oneOf", ptr);
      }
  }

  // The merged schema lives outside the document: compile it with pointers of the parent.
  uint32_t compile_merged(const Json& merged, const std::string& parent_ptr, const std::string& branch_ptr,
                          const std::string& res, int depth) {
    (void)parent_ptr;
    return compile(merged, branch_ptr, res, depth + 1, false);
  }

  Json merge(const Json& base, const char* comb, const Json& br, const std::string& bp) {
    Json m = Json::object();
    for (auto& kv : base.members())
      if (kv.first != comb) m.members().push_back(kv);
    for (auto& kv : br.members()) {
      const std::string& k = kv.first;
      if (is_annotation(k)) continue;
      Json* existing = nullptr;
      for (auto& mk : m.members())
        if (mk.first == k) existing = &mk.second;
      if (!existing) {
        m.members().push_back(kv);
        continue;
      }
      if (k == "type") {
        auto bits = [&](const Json& t) {
          unsigned b = 0;
          if (t.is_string()) b = type_bit(t.str());
          else if (t.is_array())
            for (auto& x : t.items()) b |= x.is_string() ? type_bit(x.str()) : 0;
          return b;
        };
        unsigned b = bits(*existing) & bits(kv.second);
        Json arr = Json::array();
        // TNum includes TInt: keep "number" only when both allow non-integers
        const char* names[] = {"null", "boolean", "integer", "number", "string", "array", "object"};
        unsigned bitsv[] = {TNull, TBool, TInt, TNum | TInt, TStr, TArr, TObj};
        for (int i = 0; i < 7; ++i) {
          if (i == 2 && (b & TNum)) continue;
          if ((b & bitsv[i]) == bitsv[i]) arr.items().push_back(Json::string(names[i]));
        }
        *existing = arr;
      } else if (k == "required") {
        if (!existing->is_array() || !kv.second.is_array()) fail("'required' must be an array of strings", "required", bp);
        for (auto& x : kv.second.items()) existing->items().push_back(x);
      } else {
        fail("'" + k + "' in both a " + comb + " branch and its parent schema is not supported", k, bp);
      }
    }
    return m;
  }

  std::vector<const Json*> filter_by_rest(const Json& s, const std::string& ptr, const std::string& res,
                                          const std::vector<const Json*>& vals) {
    IrBuilder ir2(opt_.limits);
    JsonSchemaOptions o2 = opt_;
    o2.whitespace = Whitespace::Flexible;
    o2.property_order = PropertyOrder::Any;
    SchemaCompiler c2(ir2, doc_, o2, nullptr);
    uint32_t root = c2.compile_without_enum(s, ptr, res);
    auto g = std::make_shared<Grammar>(lower(ir2, root));
    std::vector<const Json*> out;
    for (auto* v : vals) {
      GrammarMatcher m(g);
      if (m.accept_bytes(v->dump()) && m.can_terminate()) out.push_back(v);
    }
    return out;
  }
};

uint32_t compile_schema_into(IrBuilder& ir, const Json& schema, const JsonSchemaOptions& opt,
                             std::vector<std::string>* warnings, std::string* unsat_reason) {
  SchemaCompiler c(ir, schema, opt, warnings);
  uint32_t root = c.compile_document();
  if (unsat_reason) *unsat_reason = c.unsat_reason();
  return root;
}

uint32_t compile_schema_value(IrBuilder& ir, const Json& schema, const JsonSchemaOptions& opt,
                              std::vector<std::string>* warnings, std::string* unsat_reason) {
  SchemaCompiler c(ir, schema, opt, warnings);
  uint32_t v = c.compile_value();
  if (unsat_reason) *unsat_reason = c.unsat_reason();
  return v;
}

std::string unsatisfiable_message(const std::string& reason) {
  return "schema admits no valid JSON value (" +
         (reason.empty() ? std::string("e.g. false, minimum > maximum, or recursion without a base case") : reason) + ")";
}

}  // namespace detail

using namespace detail;

std::shared_ptr<const Grammar> Grammar::from_json_schema(const Json& schema, const JsonSchemaOptions& options,
                                                         std::vector<std::string>* warnings) {
  IrBuilder ir(options.limits);
  std::string reason;
  uint32_t root = compile_schema_into(ir, schema, options, warnings, &reason);
  auto a = lower(ir, root);
  if (!a->root_productive && !options.allow_unsatisfiable) throw SchemaError(unsatisfiable_message(reason), "", "");
  return std::make_shared<Grammar>(std::move(a));
}

std::shared_ptr<const Grammar> Grammar::from_json_schema(std::string_view text, const JsonSchemaOptions& options,
                                                         std::vector<std::string>* warnings) {
  Json j = parse_json(text, options.limits.max_json_depth);
  return from_json_schema(j, options, warnings);
}

std::shared_ptr<const Grammar> Grammar::any_json(Whitespace ws, const GrammarLimits& limits) {
  JsonSchemaOptions o;
  o.whitespace = ws;
  o.limits = limits;
  return from_json_schema(Json::boolean(true), o, nullptr);
}

}  // namespace edgeagent
