// Strict RFC 8259 JSON parser and serializer.
#include <cmath>
#include <cstdlib>
#include <string>

#include "edgeagent/grammar.h"
#include "edgeagent/json.h"
#include "utf8.h"

namespace edgeagent {

JsonParseError::JsonParseError(const std::string& msg, int l, int c)
    : GrammarError("JSON parse error at line " + std::to_string(l) + ", column " + std::to_string(c) +
                   ": " + msg),
      line(l),
      column(c) {}

namespace {

class Parser {
 public:
  Parser(std::string_view t, int max_depth) : s_(t), max_depth_(max_depth) {}

  Json parse_document() {
    skip_ws();
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  int max_depth_;

  [[noreturn]] void fail(const std::string& msg) { fail_at(msg, pos_); }
  [[noreturn]] void fail_at(const std::string& msg, size_t p) {
    // column counts code points from the line start
    int col = 1;
    for (size_t i = line_start_; i < p && i < s_.size(); ++i)
      if ((uint8_t(s_[i]) & 0xC0) != 0x80) ++col;
    throw JsonParseError(msg, line_, col);
  }

  void skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '\n') {
        ++pos_;
        ++line_;
        line_start_ = pos_;
      } else {
        break;
      }
    }
  }

  // incremental (positions only move forward), so long lines stay linear
  size_t col_line_ = size_t(-1), col_pos_ = 0;
  int col_ = 1;
  int cur_col() {
    if (col_line_ != line_start_ || col_pos_ > pos_) {
      col_line_ = line_start_;
      col_pos_ = line_start_;
      col_ = 1;
    }
    for (; col_pos_ < pos_; ++col_pos_)
      if ((uint8_t(s_[col_pos_]) & 0xC0) != 0x80) ++col_;
    return col_;
  }

  Json parse_value(int depth) {
    if (depth > max_depth_) fail("nesting deeper than the limit of " + std::to_string(max_depth_));
    if (pos_ >= s_.size()) fail("unexpected end of input, expected a value");
    int l = line_, c = cur_col();
    Json v;
    char ch = s_[pos_];
    switch (ch) {
      case '{': v = parse_object(depth); break;
      case '[': v = parse_array(depth); break;
      case '"': v = Json::string(parse_string()); break;
      case 't': expect_word("true"); v = Json::boolean(true); break;
      case 'f': expect_word("false"); v = Json::boolean(false); break;
      case 'n': expect_word("null"); v = Json::null(); break;
      default:
        if (ch == '-' || (ch >= '0' && ch <= '9')) {
          v = parse_number();
        } else {
          fail(std::string("unexpected character '") + ch + "'");
        }
    }
    v.line = l;
    v.column = c;
    return v;
  }

  void expect_word(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s_.substr(pos_, n) != w) fail(std::string("invalid literal, expected '") + w + "'");
    pos_ += n;
  }

  Json parse_number() {
    size_t start = pos_;
    auto digit = [&](size_t p) { return p < s_.size() && s_[p] >= '0' && s_[p] <= '9'; };
    if (s_[pos_] == '-') ++pos_;
    if (!digit(pos_)) fail("invalid number: expected a digit");
    if (s_[pos_] == '0') {
      ++pos_;
      if (digit(pos_)) fail("invalid number: leading zero");
    } else {
      while (digit(pos_)) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digit(pos_)) fail("invalid number: expected a digit after '.'");
      while (digit(pos_)) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit(pos_)) fail("invalid number: expected a digit in the exponent");
      while (digit(pos_)) ++pos_;
    }
    return Json::number(std::string(s_.substr(start, pos_ - start)));
  }

  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else fail("invalid hex digit in \\u escape");
    }
    return v;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      uint8_t c = uint8_t(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in string (must be escaped)");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) fail("unterminated escape");
        char e = s_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            size_t at = pos_ - 2;
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (pos_ + 2 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
                pos_ += 2;
                unsigned lo = hex4();
                if (lo < 0xDC00 || lo > 0xDFFF) fail_at("invalid low surrogate in \\u escape", at);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              } else {
                fail_at("lone high surrogate in \\u escape", at);
              }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail_at("lone low surrogate in \\u escape", at);
            }
            utf8::append(out, cp);
            break;
          }
          default: fail(std::string("invalid escape '\\") + e + "'");
        }
        continue;
      }
      if (c < 0x80) {
        out += char(c);
        ++pos_;
        continue;
      }
      uint32_t cp;
      size_t n = utf8::decode(s_.data() + pos_, s_.size() - pos_, &cp);
      if (n == 0) fail("invalid UTF-8 in string");
      out.append(s_.data() + pos_, n);
      pos_ += n;
    }
  }

  Json parse_array(int depth) {
    ++pos_;
    Json a = Json::array();
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return a;
    }
    while (true) {
      skip_ws();
      a.items().push_back(parse_value(depth + 1));
      skip_ws();
      if (pos_ >= s_.size()) fail("unterminated array");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == ']') { ++pos_; return a; }
      fail("expected ',' or ']' in array");
    }
  }

  Json parse_object(int depth) {
    ++pos_;
    Json o = Json::object();
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return o;
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key in object");
      std::string key = parse_string();
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':' after object key");
      ++pos_;
      skip_ws();
      Json v = parse_value(depth + 1);
      o.members().emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (pos_ >= s_.size()) fail("unterminated object");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == '}') { ++pos_; return o; }
      fail("expected ',' or '}' in object");
    }
  }
};

// Decimal value of a number lexeme: sign, digits (no leading zeros, no trailing zeros),
// exponent so that value = sign * 0.digits * 10^exp10. Zero has empty digits.
struct Decimal {
  bool neg = false;
  std::string digits;
  long long exp10 = 0;
};

Decimal to_decimal(const std::string& lex) {
  Decimal d;
  size_t i = 0;
  if (i < lex.size() && lex[i] == '-') { d.neg = true; ++i; }
  std::string mant;
  long long point = 0;
  bool seen_point = false;
  for (; i < lex.size() && lex[i] != 'e' && lex[i] != 'E'; ++i) {
    if (lex[i] == '.') { seen_point = true; continue; }
    mant += lex[i];
    if (!seen_point) ++point;
  }
  long long e = 0;
  if (i < lex.size()) {
    ++i;
    bool eneg = false;
    if (lex[i] == '+' || lex[i] == '-') { eneg = lex[i] == '-'; ++i; }
    for (; i < lex.size(); ++i) {
      if (e < 100000000000LL) e = e * 10 + (lex[i] - '0');
    }
    if (eneg) e = -e;
  }
  size_t lead = 0;
  while (lead < mant.size() && mant[lead] == '0') ++lead;
  if (lead == mant.size()) { d.neg = false; return d; }  // zero
  size_t trail = mant.size();
  while (trail > lead && mant[trail - 1] == '0') --trail;
  d.digits = mant.substr(lead, trail - lead);
  d.exp10 = point - (long long)lead + e;
  return d;
}

}  // namespace

const Json* Json::find(std::string_view key) const {
  const Json* r = nullptr;
  for (auto& m : members_)
    if (m.first == key) r = &m.second;
  return r;
}

bool Json::number_is_integer() const {
  if (type_ != Type::Number) return false;
  Decimal d = to_decimal(str_);
  return d.digits.empty() || d.exp10 >= (long long)d.digits.size();
}

double Json::number_value() const { return std::strtod(str_.c_str(), nullptr); }

bool Json::equals(const Json& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::Null: return true;
    case Type::Bool: return bool_ == o.bool_;
    case Type::String: return str_ == o.str_;
    case Type::Number: {
      Decimal a = to_decimal(str_), b = to_decimal(o.str_);
      return a.neg == b.neg && a.digits == b.digits && (a.digits.empty() || a.exp10 == b.exp10);
    }
    case Type::Array:
      if (items_.size() != o.items_.size()) return false;
      for (size_t i = 0; i < items_.size(); ++i)
        if (!items_[i].equals(o.items_[i])) return false;
      return true;
    case Type::Object: {
      // compare as maps (last duplicate wins)
      auto count_unique = [](const Json& j) {
        size_t n = 0;
        for (size_t i = 0; i < j.members_.size(); ++i) {
          bool later = false;
          for (size_t k = i + 1; k < j.members_.size(); ++k)
            if (j.members_[k].first == j.members_[i].first) later = true;
          if (!later) ++n;
        }
        return n;
      };
      if (count_unique(*this) != count_unique(o)) return false;
      for (auto& m : members_) {
        const Json* other = o.find(m.first);
        const Json* mine = find(m.first);
        if (!other || !mine->equals(*other)) return false;
      }
      return true;
    }
  }
  return false;
}

std::string json_quote(std::string_view s, bool ensure_ascii) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  auto u4 = [&](unsigned v) {
    out += "\\u";
    out += hex[(v >> 12) & 15];
    out += hex[(v >> 8) & 15];
    out += hex[(v >> 4) & 15];
    out += hex[v & 15];
  };
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = uint8_t(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) u4(c);
          else out += char(c);
      }
      ++i;
      continue;
    }
    uint32_t cp;
    size_t n = utf8::decode(s.data() + i, s.size() - i, &cp);
    if (n == 0) {  // invalid byte: escape as U+FFFD
      if (ensure_ascii) u4(0xFFFD);
      else out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (!ensure_ascii) {
      out.append(s.data() + i, n);
    } else if (cp >= 0x10000) {
      unsigned v = cp - 0x10000;
      u4(0xD800 + (v >> 10));
      u4(0xDC00 + (v & 0x3FF));
    } else {
      u4(cp);
    }
    i += n;
  }
  out += '"';
  return out;
}

namespace {
void dump_to(const Json& j, std::string& out, bool spaced, int depth = 0) {
  if (depth > 1000) throw GrammarLimitError("JSON value nested deeper than 1000 levels");
  switch (j.type()) {
    case Json::Type::Null: out += "null"; break;
    case Json::Type::Bool: out += j.as_bool() ? "true" : "false"; break;
    case Json::Type::Number: out += j.str(); break;
    case Json::Type::String: out += json_quote(j.str(), spaced); break;
    case Json::Type::Array: {
      out += '[';
      bool first = true;
      for (auto& v : j.items()) {
        if (!first) out += spaced ? ", " : ",";
        first = false;
        dump_to(v, out, spaced, depth + 1);
      }
      out += ']';
      break;
    }
    case Json::Type::Object: {
      out += '{';
      bool first = true;
      for (auto& m : j.members()) {
        if (!first) out += spaced ? ", " : ",";
        first = false;
        out += json_quote(m.first, spaced);
        out += spaced ? ": " : ":";
        dump_to(m.second, out, spaced, depth + 1);
      }
      out += '}';
      break;
    }
  }
}
}  // namespace

std::string Json::dump() const {
  std::string s;
  dump_to(*this, s, true);
  return s;
}

std::string Json::dump_compact() const {
  std::string s;
  dump_to(*this, s, false);
  return s;
}

Json parse_json(std::string_view text, int max_depth) {
  Parser p(text, max_depth);
  return p.parse_document();
}

}  // namespace edgeagent
