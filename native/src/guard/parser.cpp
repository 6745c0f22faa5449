// Guard policy language: lexer, recursive-descent parser and checks. Produces a Program
// (formula DAG in bottom-up order + atoms); future obligations are then compiled into
// DFAs by progression.cpp. The grammar is in README.md ("Behaviour guards").
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "edgeagent/grammar.h"
#include "program.h"

namespace edgeagent {

GuardPolicyError::GuardPolicyError(std::string source, int line, int column, std::string message)
    : Error(source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message),
      source_(std::move(source)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

namespace guard_detail {

void build_dfa(Program& p, int32_t root, int line, int column, const std::string& source);

namespace {

constexpr size_t kMaxPolicyBytes = 1 << 20;
constexpr size_t kMaxNodes = 100000;
constexpr int kMaxDepth = 200;

enum class Tok : uint8_t { Ident, String, Number, Regex, Sym, End };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifier, symbol, decoded string, regex body, number lexeme
  int line = 1, column = 1;
  size_t begin = 0, end = 0;  // byte offsets in the source
};

const std::set<std::string>& keywords() {
  static const std::set<std::string> k = {
      "rule", "event", "tag", "when", "require", "because", "deny", "confirm", "stop", "true", "false", "null",
      "count", "since", "in", "matches", "under", "tagged", "user", "call", "result", "text", "final",
      "same_call", "Y", "O", "H", "S", "F", "G", "X", "U"};
  return k;
}

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& source) : s_(text), source_(source) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skip_space();
      Token t;
      t.line = line_;
      t.column = col_;
      t.begin = pos_;
      if (pos_ >= s_.size()) {
        t.kind = Tok::End;
        t.end = pos_;
        out.push_back(t);
        return out;
      }
      char c = s_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' ||
                                    s_[pos_] == '-' || s_[pos_] == '.')) {
          // '-' and '.' are part of a name only when followed by a name character
          // (tool names like "web.search" or "send-sms"), never "->".
          if ((s_[pos_] == '-' || s_[pos_] == '.') &&
              !(pos_ + 1 < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_ + 1])) || s_[pos_ + 1] == '_')))
            break;
          if (s_[pos_] == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '>') break;
          advance();
        }
        t.kind = Tok::Ident;
        t.text = std::string(s_.substr(t.begin, pos_ - t.begin));
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
        lex_number(t);
      } else if (c == '"') {
        lex_string(t);
      } else if (c == '/') {
        lex_regex(t);
      } else {
        static const char* two[] = {"->", "==", "!=", "<=", ">="};
        t.kind = Tok::Sym;
        for (const char* op : two) {
          if (s_.substr(pos_, 2) == op) {
            t.text = op;
            advance();
            advance();
            break;
          }
        }
        if (t.text.empty()) {
          if (std::string("(){}[],:;!&|<>*=").find(c) == std::string::npos) {
            if (static_cast<unsigned char>(c) >= 0x80) {  // the whole UTF-8 character (validated up front)
              size_t n = 1;
              while (pos_ + n < s_.size() && (static_cast<unsigned char>(s_[pos_ + n]) & 0xC0) == 0x80) ++n;
              fail(t, "unexpected character '" + std::string(s_.substr(pos_, n)) + "'");
            }
            if (std::isprint(static_cast<unsigned char>(c))) fail(t, std::string("unexpected character '") + c + "'");
            fail(t, "unexpected control character (code " + std::to_string(static_cast<int>(c)) + ")");
          }
          t.text = std::string(1, c);
          advance();
        }
      }
      t.end = pos_;
      out.push_back(std::move(t));
    }
  }

 private:
  std::string_view s_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;

  [[noreturn]] void fail(const Token& t, const std::string& m) { throw GuardPolicyError(source_, t.line, t.column, m); }
  [[noreturn]] void fail_here(const std::string& m) { throw GuardPolicyError(source_, line_, col_, m); }

  void advance() {
    if (s_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else if ((static_cast<unsigned char>(s_[pos_]) & 0xC0) != 0x80) {
      ++col_;  // columns count characters, not UTF-8 continuation bytes
    }
    ++pos_;
  }

  void skip_space() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') advance();
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else {
        break;
      }
    }
  }

  void lex_number(Token& t) {
    size_t b = pos_;
    if (s_[pos_] == '-') advance();
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) advance();
    if (pos_ < s_.size() && s_[pos_] == '.') {
      advance();
      if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_])))
        fail_here("expected a digit after '.' in a number");
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) advance();
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      advance();
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) advance();
      if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_])))
        fail_here("expected a digit in the exponent of a number");
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) advance();
    }
    if (pos_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      fail_here("a number must not be followed by a letter");
    t.kind = Tok::Number;
    t.text = std::string(s_.substr(b, pos_ - b));
  }

  void lex_string(Token& t) {
    advance();  // "
    std::string out;
    while (true) {
      if (pos_ >= s_.size() || s_[pos_] == '\n') fail(t, "unterminated string (a string ends on its line)");
      char c = s_[pos_];
      if (c == '"') {
        advance();
        break;
      }
      if (c == '\\') {
        advance();
        if (pos_ >= s_.size()) fail(t, "unterminated string");
        char e = s_[pos_];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case '/': out += '/'; break;
          default: fail_here(std::string("unknown escape '\\") + e + "' in a string (use \\\" \\\\ \\n \\t)");
        }
        advance();
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail_here("control character in a string");
      out += c;
      advance();
    }
    t.kind = Tok::String;
    t.text = std::move(out);
  }

  void lex_regex(Token& t) {
    advance();  // /
    std::string out;
    while (true) {
      if (pos_ >= s_.size() || s_[pos_] == '\n') fail(t, "unterminated regex (/.../ ends on its line)");
      char c = s_[pos_];
      if (c == '/') {
        advance();
        break;
      }
      if (c == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        out += '/';
        advance();
        advance();
        continue;
      }
      if (c == '\\' && pos_ + 1 < s_.size()) {
        out += c;
        advance();
        out += s_[pos_];
        advance();
        continue;
      }
      out += c;
      advance();
    }
    t.kind = Tok::Regex;
    t.text = std::move(out);
  }
};

const char* type_of(const Json& j) {
  switch (j.type()) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "boolean";
    case Json::Type::Number: return "number";
    case Json::Type::String: return "string";
    case Json::Type::Array: return "list";
    case Json::Type::Object: return "object";
  }
  return "value";
}

// Lexical normalization of a '/'-separated path; false if '..' climbs above the start.
bool split_path(std::string_view p, std::vector<std::string>& parts, bool& absolute) {
  absolute = !p.empty() && p[0] == '/';
  parts.clear();
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part == "..") {
      if (parts.empty()) return false;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  return true;
}

struct ToolTable {
  std::map<std::string, const GuardToolInfo*> by_name;
  std::map<std::string, Json> schemas;  // parsed parameter schemas
  bool given = false;
};

class Parser {
 public:
  Parser(std::vector<Token> toks, std::string_view text, const std::string& source,
         const std::vector<GuardToolInfo>* tools)
      : t_(std::move(toks)), text_(text), source_(source) {
    if (tools != nullptr) {
      tools_.given = true;
      for (const auto& tool : *tools) {
        if (tool.name.empty()) throw GuardPolicyError(source, 1, 1, "a tool in the tool list has an empty name");
        tools_.by_name[tool.name] = &tool;
        for (const auto& tag : tool.tags) tags_[tag].insert(tool.name);
        if (!tool.schema_json.empty()) {
          try {
            tools_.schemas[tool.name] = parse_json(tool.schema_json);
          } catch (const std::exception& e) {
            throw GuardPolicyError(source, 1, 1, "the schema of tool '" + tool.name + "' is not valid JSON: " + e.what());
          }
        }
      }
    }
  }

  std::unique_ptr<Program> run() {
    p_ = std::make_unique<Program>();
    while (peek().kind != Tok::End) {
      const Token& t = peek();
      if (is_word(t, "rule")) {
        parse_rule();
      } else if (is_word(t, "event")) {
        parse_event_decl();
      } else if (is_word(t, "tag")) {
        parse_tag_decl();
      } else {
        fail(t, "expected 'rule', 'event' or 'tag', found " + describe(t));
      }
    }
    if (p_->rules.empty()) fail(peek(), "the policy has no rules");
    return std::move(p_);
  }

 private:
  std::vector<Token> t_;
  size_t i_ = 0;
  std::string_view text_;
  const std::string& source_;
  std::unique_ptr<Program> p_;
  ToolTable tools_;
  std::map<std::string, std::set<std::string>> tags_;
  std::set<std::string> rule_names_;
  int depth_ = 0;

  [[noreturn]] void fail(const Token& t, const std::string& m) { throw GuardPolicyError(source_, t.line, t.column, m); }
  [[noreturn]] void fail_node(const Node& n, const std::string& m) {
    throw GuardPolicyError(source_, n.line, n.column, m);
  }

  const Token& peek(size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  const Token& next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  static bool is_word(const Token& t, const char* w) { return t.kind == Tok::Ident && t.text == w; }
  static bool is_sym(const Token& t, const char* s) { return t.kind == Tok::Sym && t.text == s; }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::End: return "the end of the policy";
      case Tok::String: return "a string";
      case Tok::Number: return "the number " + t.text;
      case Tok::Regex: return "a regex";
      case Tok::Sym: return "'" + t.text + "'";
      case Tok::Ident: return "'" + t.text + "'";
    }
    return "?";
  }
  void expect_sym(const char* s) {
    if (!is_sym(peek(), s)) fail(peek(), std::string("expected '") + s + "', found " + describe(peek()));
    next();
  }
  std::string expect_name(const char* what) {
    const Token& t = peek();
    if (t.kind != Tok::Ident) fail(t, std::string("expected ") + what + ", found " + describe(t));
    if (keywords().count(t.text)) fail(t, std::string("expected ") + what + ", found the keyword '" + t.text + "'");
    next();
    return t.text;
  }
  void optional_semicolon() {
    if (is_sym(peek(), ";")) next();
  }

  void parse_event_decl() {
    next();
    while (true) {
      const Token& t = peek();
      std::string name = expect_name("a custom event name");
      if (p_->custom_index(name) >= 0) fail(t, "event '" + name + "' is declared twice");
      p_->customs.push_back(name);
      if (!is_sym(peek(), ",")) break;
      next();
    }
    optional_semicolon();
  }

  void parse_tag_decl() {
    next();
    const Token& nt = peek();
    std::string name = expect_name("a tag name");
    if (declared_tags_.count(name)) fail(nt, "tag '" + name + "' is declared twice");
    if (tags_.count(name)) fail(nt, "tag '" + name + "' already comes from the tool list");
    declared_tags_.insert(name);
    expect_sym("=");
    std::vector<std::string> tools = parse_tool_set();
    tags_[name].insert(tools.begin(), tools.end());
    optional_semicolon();
  }
  std::set<std::string> declared_tags_;

  std::vector<std::string> parse_tool_set() {
    expect_sym("{");
    std::vector<std::string> out;
    while (true) {
      const Token& t = peek();
      if (t.kind != Tok::Ident) fail(t, "expected a tool name, found " + describe(t));
      check_tool(t);
      out.push_back(next().text);
      if (is_sym(peek(), "}")) break;
      expect_sym(",");
    }
    next();
    return out;
  }

  void check_tool(const Token& t) {
    if (tools_.given && !tools_.by_name.count(t.text)) {
      std::string known;
      for (const auto& [n, _] : tools_.by_name) known += (known.empty() ? "" : ", ") + n;
      fail(t, "unknown tool '" + t.text + "' (known tools: " + known + ")");
    }
  }

  GuardAction parse_action() {
    const Token& t = peek();
    if (is_word(t, "deny")) { next(); return GuardAction::Deny; }
    if (is_word(t, "confirm")) { next(); return GuardAction::Confirm; }
    if (is_word(t, "stop")) { next(); return GuardAction::Stop; }
    fail(t, "expected an action (deny, confirm or stop), found " + describe(t));
  }

  void parse_rule() {
    const Token& start = next();  // rule
    const Token& nt = peek();
    GuardRuleInfo info;
    info.name = expect_name("a rule name");
    if (rule_names_.count(info.name)) fail(nt, "rule '" + info.name + "' is defined twice");
    rule_names_.insert(info.name);
    info.line = start.line;
    info.column = start.column;
    expect_sym(":");
    info.action = parse_action();
    RuleCode code;
    if (is_word(peek(), "require")) {
      next();
      int32_t f = parse_formula();
      info.obligation = true;
      code.dfa = static_cast<int32_t>(p_->dfas.size());
      build_dfa(*p_, f, p_->nodes[f].line, p_->nodes[f].column, source_);
    } else {
      int32_t cond;
      if (is_word(peek(), "when")) {
        next();
        cond = parse_formula();
      } else {
        cond = parse_formula();
        if (is_word(peek(), "when")) {
          next();
          int32_t c2 = parse_formula();
          cond = add_binary(Op::And, cond, c2, p_->nodes[cond].line, p_->nodes[cond].column);
        }
      }
      check_past(cond);
      code.cond = cond;
    }
    size_t end = t_[i_ - 1].end;
    if (is_word(peek(), "because")) {
      next();
      if (peek().kind != Tok::String) fail(peek(), "expected a string after 'because', found " + describe(peek()));
      info.reason = next().text;
      end = t_[i_ - 1].end;
    }
    info.text = std::string(text_.substr(start.begin, end - start.begin));
    for (auto& ch : info.text)
      if (ch == '\n' || ch == '\t') ch = ' ';
    if (info.reason.empty()) info.reason = info.text;
    optional_semicolon();
    const Token& after = peek();
    if (after.kind != Tok::End && !is_word(after, "rule") && !is_word(after, "event") && !is_word(after, "tag"))
      fail(after, "expected the end of rule '" + info.name + "' (or 'when' / 'because'), found " + describe(after));
    p_->rules.push_back(std::move(info));
    p_->code.push_back(code);
  }

  // A `when` condition may not contain future operators.
  void check_past(int32_t n) {
    const Node& node = p_->nodes[n];
    if (!node.future) return;
    // find the outermost future operator for the position
    std::vector<int32_t> st{n};
    while (!st.empty()) {
      int32_t x = st.back();
      st.pop_back();
      const Node& y = p_->nodes[x];
      if (y.op == Op::X || y.op == Op::F || y.op == Op::G || y.op == Op::U)
        fail_node(y, "future operators (F, G, X, U) are allowed only in 'require' rules; a 'when' condition is "
                     "judged at each event from the past");
      if (y.a >= 0 && p_->nodes[y.a].future) st.push_back(y.a);
      if (y.b >= 0 && p_->nodes[y.b].future) st.push_back(y.b);
    }
  }

  int32_t add(Node n) {
    if (p_->nodes.size() >= kMaxNodes) fail_node(n, "policy too large (more than 100000 formula nodes)");
    p_->nodes.push_back(n);
    return static_cast<int32_t>(p_->nodes.size() - 1);
  }
  int32_t add_binary(Op op, int32_t a, int32_t b, int line, int col) {
    Node n;
    n.op = op;
    n.a = a;
    n.b = b;
    n.line = line;
    n.column = col;
    n.future = p_->nodes[a].future || (b >= 0 && p_->nodes[b].future) || op == Op::X || op == Op::F ||
               op == Op::G || op == Op::U;
    if ((op == Op::Y || op == Op::O || op == Op::H || op == Op::S || op == Op::Count) &&
        (p_->nodes[a].future || (b >= 0 && p_->nodes[b].future)))
      fail_node(n, std::string("a past-time operator (") + (op == Op::Count ? "count" : "Y, O, H, S") +
                       ") cannot contain future operators (F, G, X, U)");
    return add(n);
  }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail(p.peek(), "formula nested too deeply (more than 200 levels)");
    }
    ~DepthGuard() { --p.depth_; }
  };

  int32_t parse_formula() {
    DepthGuard g(*this);
    const Token& t = peek();
    int32_t a = parse_or();
    if (is_sym(peek(), "->")) {
      next();
      int32_t b = parse_formula();
      int32_t na = add_binary(Op::Not, a, -1, t.line, t.column);
      return add_binary(Op::Or, na, b, t.line, t.column);
    }
    return a;
  }
  int32_t parse_or() {
    const Token& t = peek();
    int32_t a = parse_and();
    while (is_sym(peek(), "|")) {
      next();
      a = add_binary(Op::Or, a, parse_and(), t.line, t.column);
    }
    return a;
  }
  int32_t parse_and() {
    const Token& t = peek();
    int32_t a = parse_binary();
    while (is_sym(peek(), "&")) {
      next();
      a = add_binary(Op::And, a, parse_binary(), t.line, t.column);
    }
    return a;
  }
  int32_t parse_binary() {
    DepthGuard g(*this);
    const Token& t = peek();
    int32_t a = parse_unary();
    if (is_word(peek(), "S") || is_word(peek(), "U")) {
      const Token& op = next();
      int32_t b = parse_binary();
      return add_binary(op.text == "S" ? Op::S : Op::U, a, b, op.line, op.column);
    }
    (void)t;
    return a;
  }
  int32_t parse_unary() {
    DepthGuard g(*this);
    const Token& t = peek();
    static const std::map<std::string, Op> unary = {{"Y", Op::Y}, {"O", Op::O}, {"H", Op::H},
                                                    {"F", Op::F}, {"G", Op::G}, {"X", Op::X}};
    if (is_sym(t, "!")) {
      next();
      return add_binary(Op::Not, parse_unary(), -1, t.line, t.column);
    }
    if (t.kind == Tok::Ident) {
      auto it = unary.find(t.text);
      if (it != unary.end()) {
        next();
        return add_binary(it->second, parse_unary(), -1, t.line, t.column);
      }
    }
    return parse_primary();
  }

  int32_t parse_primary() {
    const Token& t = peek();
    if (is_sym(t, "(")) {
      next();
      int32_t f = parse_formula();
      expect_sym(")");
      return f;
    }
    if (t.kind != Tok::Ident) fail(t, "expected a formula (an event, true, false, count(...), '(' or an operator), "
                                      "found " + describe(t));
    Node n;
    n.line = t.line;
    n.column = t.column;
    if (t.text == "true" || t.text == "false") {
      next();
      n.op = t.text == "true" ? Op::True : Op::False;
      return add(n);
    }
    if (t.text == "count") return parse_count();
    if (t.text == "S" || t.text == "U") fail(t, "'" + t.text + "' is a binary operator: write  a " + t.text + " b");
    Atom atom;
    if (t.text == "user") atom.kind = AtomKind::User;
    else if (t.text == "text") atom.kind = AtomKind::Text;
    else if (t.text == "final") atom.kind = AtomKind::Final;
    else if (t.text == "call") atom.kind = AtomKind::Call;
    else if (t.text == "result") atom.kind = AtomKind::Result;
    else if (t.text == "same_call") atom.kind = AtomKind::SameCall;
    else if (p_->custom_index(t.text) >= 0) {
      atom.kind = AtomKind::Custom;
      atom.custom = p_->custom_index(t.text);
    } else if (keywords().count(t.text)) {
      fail(t, "unexpected keyword '" + t.text + "' in a formula");
    } else {
      fail(t, "unknown event '" + t.text + "' (events: user, call, result, text, final, same_call; declare custom "
              "events with  event " + t.text + ";  before the rules that use them)");
    }
    next();
    if (is_sym(peek(), "(") && atom.kind != AtomKind::SameCall) {
      next();
      if (atom.kind == AtomKind::Call || atom.kind == AtomKind::Result) {
        parse_selector(atom);
        while (is_sym(peek(), ",")) {
          next();
          atom.preds.push_back(parse_pred(atom));
        }
      } else {
        atom.preds.push_back(parse_pred(atom));
        while (is_sym(peek(), ",")) {
          next();
          atom.preds.push_back(parse_pred(atom));
        }
      }
      expect_sym(")");
    }
    p_->atoms.push_back(std::move(atom));
    n.op = Op::Atom;
    n.atom = static_cast<int32_t>(p_->atoms.size() - 1);
    return add(n);
  }

  int32_t parse_count() {
    const Token& t = next();  // count
    expect_sym("(");
    int32_t a = parse_formula();
    expect_sym(")");
    int32_t b = -1;
    if (is_word(peek(), "since")) {
      next();
      b = parse_unary();
    }
    const Token& op = peek();
    static const std::map<std::string, Cmp> cmps = {{"==", Cmp::Eq}, {"!=", Cmp::Ne}, {"<", Cmp::Lt},
                                                    {"<=", Cmp::Le}, {">", Cmp::Gt}, {">=", Cmp::Ge}};
    auto it = op.kind == Tok::Sym ? cmps.find(op.text) : cmps.end();
    if (it == cmps.end()) fail(op, "expected a comparison (== != < <= > >=) after count(...), found " + describe(op));
    next();
    const Token& num = peek();
    if (num.kind != Tok::Number) fail(num, "type mismatch: count(...) compares with a whole number, found " + describe(num));
    if (num.text.find_first_of(".eE") != std::string::npos || num.text[0] == '-')
      fail(num, "type mismatch: count(...) compares with a whole number >= 0, found " + num.text);
    if (num.text.size() > 9) fail(num, "count bound too large (at most 999999999)");
    next();
    int32_t id = add_binary(Op::Count, a, b, t.line, t.column);
    Node& n = p_->nodes[id];
    n.cmp = it->second;
    n.bound = std::stoll(num.text);
    n.counter = p_->n_counters++;
    return id;
  }

  void parse_selector(Atom& atom) {
    const Token& t = peek();
    if (is_sym(t, "*")) {
      next();
      return;
    }
    atom.any_tool = false;
    if (is_sym(t, "{")) {
      atom.tools = parse_tool_set();
    } else if (is_word(t, "tagged")) {
      next();
      expect_sym("(");
      const Token& tag = peek();
      if (tag.kind != Tok::Ident) fail(tag, "expected a tag name, found " + describe(tag));
      next();
      auto it = tags_.find(tag.text);
      if (it == tags_.end()) {
        fail(tag, "unknown tag '" + tag.text + "' (declare it with  tag " + tag.text +
                      " = {tool, ...}  or pass a tool list that has it)");
      }
      atom.tools.assign(it->second.begin(), it->second.end());
      expect_sym(")");
    } else if (t.kind == Tok::Ident) {
      if (keywords().count(t.text)) fail(t, "expected a tool name, '*', '{' or tagged(...), found the keyword '" + t.text + "'");
      check_tool(t);
      atom.tools.push_back(next().text);
    } else {
      fail(t, "expected a tool name, '*', '{tool, ...}' or tagged(tag), found " + describe(t));
    }
    std::sort(atom.tools.begin(), atom.tools.end());
    atom.tools.erase(std::unique(atom.tools.begin(), atom.tools.end()), atom.tools.end());
  }

  Json parse_literal(bool allow_list) {
    const Token& t = peek();
    if (t.kind == Tok::String) {
      next();
      return Json::string(t.text);
    }
    if (t.kind == Tok::Number) {
      next();
      Json j = Json::number(t.text);
      if (!std::isfinite(j.number_value())) fail(t, "number out of range: " + t.text);
      return j;
    }
    if (is_word(t, "true") || is_word(t, "false")) {
      next();
      return Json::boolean(t.text == "true");
    }
    if (is_word(t, "null")) {
      next();
      return Json::null();
    }
    if (allow_list && is_sym(t, "[")) {
      next();
      Json list = Json::array();
      if (!is_sym(peek(), "]")) {
        while (true) {
          list.items().push_back(parse_literal(false));
          if (is_sym(peek(), "]")) break;
          expect_sym(",");
        }
      }
      next();
      return list;
    }
    if (t.kind == Tok::Regex) fail(t, "type mismatch: a regex /.../ goes only after 'matches'");
    fail(t, std::string("expected a value (a string, number, true, false, null") + (allow_list ? ", [list]" : "") +
                "), found " + describe(t));
  }

  Pred parse_pred(const Atom& atom) {
    Pred pr;
    const Token& first = peek();
    if (first.kind != Tok::Ident) fail(first, "expected an argument name, found " + describe(first));
    pr.path.push_back(next().text);
    // Field names may contain '.' already (lexed as part of a name): split them.
    {
      std::vector<std::string> parts;
      std::string cur;
      for (char c : pr.path[0]) {
        if (c == '.') {
          parts.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      parts.push_back(cur);
      pr.path = parts;
    }
    bool is_call = atom.kind == AtomKind::Call, is_result = atom.kind == AtomKind::Result;
    if (!is_call && !is_result && (pr.path.size() != 1 || pr.path[0] != "text"))
      fail(first, "this event has one field, 'text' (e.g.  (text matches /.../)), not '" + join(pr.path) + "'");
    const Token& op = peek();
    static const std::map<std::string, PredOp> ops = {
        {"==", PredOp::Eq}, {"!=", PredOp::Ne}, {"<", PredOp::Lt},        {"<=", PredOp::Le},
        {">", PredOp::Gt},  {">=", PredOp::Ge}, {"in", PredOp::In}, {"matches", PredOp::Matches},
        {"under", PredOp::Under}};
    auto it = (op.kind == Tok::Sym || op.kind == Tok::Ident) ? ops.find(op.text) : ops.end();
    if (it == ops.end())
      fail(op, "expected a comparison (== != < <= > >= in matches under) after '" + join(pr.path) + "', found " +
                   describe(op));
    next();
    pr.op = it->second;
    const Token& lt = peek();
    switch (pr.op) {
      case PredOp::Matches: {
        if (lt.kind != Tok::Regex) fail(lt, "type mismatch: 'matches' takes a regex /.../, found " + describe(lt));
        next();
        try {
          p_->regexes.emplace_back(lt.text);
        } catch (const RegexError& e) {
          fail(lt, "bad regex /" + lt.text + "/: " + e.what());
        } catch (const GrammarError& e) {
          fail(lt, "bad regex /" + lt.text + "/: " + e.what());
        }
        pr.regex = static_cast<int32_t>(p_->regexes.size() - 1);
        p_->max_regex_states = std::max(p_->max_regex_states, p_->regexes.back().n_states());
        pr.literal = Json::string(lt.text);
        break;
      }
      case PredOp::Under: {
        if (lt.kind != Tok::String) fail(lt, "type mismatch: 'under' takes a path string, found " + describe(lt));
        next();
        pr.literal = Json::string(lt.text);
        if (!split_path(lt.text, pr.prefix, pr.prefix_absolute))
          fail(lt, "the path \"" + lt.text + "\" climbs above its start with '..'");
        break;
      }
      case PredOp::In: {
        if (!is_sym(lt, "[")) fail(lt, "type mismatch: 'in' takes a list [...], found " + describe(lt));
        pr.literal = parse_literal(true);
        break;
      }
      case PredOp::Lt: case PredOp::Le: case PredOp::Gt: case PredOp::Ge: {
        Json v = parse_literal(false);
        if (!v.is_number())
          fail(lt, std::string("type mismatch: '") + pred_op_name(pr.op) + "' compares numbers, found " + type_of(v) +
                       " " + lt.text);
        pr.literal = v;
        pr.number = v.number_value();
        break;
      }
      case PredOp::Eq: case PredOp::Ne: {
        pr.literal = parse_literal(false);
        if (pr.literal.is_number()) pr.number = pr.literal.number_value();
        break;
      }
    }
    check_types(atom, pr, first, lt);
    return pr;
  }

  static std::string join(const std::vector<std::string>& path) {
    std::string s;
    for (const auto& p : path) s += (s.empty() ? "" : ".") + p;
    return s;
  }

  // With a tool list: the argument must exist on the selected tools and its schema type
  // must fit the comparison.
  void check_types(const Atom& atom, const Pred& pr, const Token& name_tok, const Token& lit_tok) {
    if (atom.kind != AtomKind::Call || atom.any_tool || !tools_.given || pr.path.size() != 1) return;
    bool any_schema = false, found = false;
    std::set<std::string> types;
    bool untyped = false;
    for (const auto& tool : atom.tools) {
      auto s = tools_.schemas.find(tool);
      if (s == tools_.schemas.end()) continue;
      const Json* props = s->second.find("properties");
      any_schema = true;
      if (props == nullptr || !props->is_object()) {
        untyped = found = true;
        continue;
      }
      const Json* prop = props->find(pr.path[0]);
      if (prop == nullptr) continue;
      found = true;
      const Json* type = prop->is_object() ? prop->find("type") : nullptr;
      if (type == nullptr) {
        untyped = true;
      } else if (type->is_string()) {
        types.insert(type->str());
      } else if (type->is_array()) {
        for (const auto& x : type->items())
          if (x.is_string()) types.insert(x.str());
      }
    }
    if (!any_schema) return;
    if (!found) {
      std::string tools;
      for (const auto& t : atom.tools) tools += (tools.empty() ? "" : ", ") + t;
      fail(name_tok, "unknown argument '" + pr.path[0] + "' of " + tools);
    }
    if (untyped) return;
    auto has = [&](const char* t) { return types.count(t) > 0; };
    bool numeric = has("number") || has("integer");
    auto mismatch = [&](const std::string& what) {
      std::string ts;
      for (const auto& t : types) ts += (ts.empty() ? "" : "|") + t;
      fail(lit_tok, "type mismatch: argument '" + pr.path[0] + "' is " + ts + ", " + what);
    };
    auto literal_fits = [&](const Json& v) {
      switch (v.type()) {
        case Json::Type::Null: return has("null");
        case Json::Type::Bool: return has("boolean");
        case Json::Type::Number: return numeric;
        case Json::Type::String: return has("string");
        default: return false;
      }
    };
    switch (pr.op) {
      case PredOp::Lt: case PredOp::Le: case PredOp::Gt: case PredOp::Ge:
        if (!numeric) mismatch(std::string("'") + pred_op_name(pr.op) + "' needs a number");
        break;
      case PredOp::Under:
        if (!has("string")) mismatch("'under' needs a string path");
        break;
      case PredOp::Matches:
        if (!has("string") && !has("array") && !has("object")) mismatch("'matches' needs text");
        break;
      case PredOp::Eq: case PredOp::Ne:
        if (!literal_fits(pr.literal)) mismatch(std::string("compared with a ") + type_of(pr.literal));
        break;
      case PredOp::In:
        for (const auto& v : pr.literal.items())
          if (!literal_fits(v)) mismatch(std::string("its list holds a ") + type_of(v));
        break;
    }
  }
};

}  // namespace

const char* pred_op_name(PredOp op) {
  switch (op) {
    case PredOp::Eq: return "==";
    case PredOp::Ne: return "!=";
    case PredOp::Lt: return "<";
    case PredOp::Le: return "<=";
    case PredOp::Gt: return ">";
    case PredOp::Ge: return ">=";
    case PredOp::In: return "in";
    case PredOp::Matches: return "matches";
    case PredOp::Under: return "under";
  }
  return "?";
}

bool Atom::has_tool(std::string_view name) const {
  if (any_tool) return true;
  auto it = std::lower_bound(tools.begin(), tools.end(), name,
                             [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  return it != tools.end() && *it == name;
}

int32_t Program::custom_index(std::string_view name) const {
  for (size_t i = 0; i < customs.size(); ++i)
    if (customs[i] == name) return static_cast<int32_t>(i);
  return -1;
}

std::unique_ptr<Program> compile_policy(std::string_view text, const std::string& source,
                                        const std::vector<GuardToolInfo>* tools) {
  if (text.size() > kMaxPolicyBytes) throw GuardPolicyError(source, 1, 1, "policy text too large (more than 1 MiB)");
  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    size_t n = 0;
    // validate UTF-8 up front so that positions and messages are sound
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      n = 1;
    } else {
      int len = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
      bool ok = len > 0 && i + len <= text.size();
      for (int k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      if (!ok) {
        int line = 1, col = 1;
        for (size_t k = 0; k < i; ++k) {
          if (text[k] == '\n') { ++line; col = 1; }
          else if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) ++col;
        }
        throw GuardPolicyError(source, line, col, "the policy is not valid UTF-8");
      }
      n = static_cast<size_t>(len);
    }
    (void)cp;
    i += n;
  }
  Lexer lexer(text, source);
  Parser parser(lexer.run(), text, source, tools);
  return parser.run();
}

}  // namespace guard_detail
}  // namespace edgeagent
