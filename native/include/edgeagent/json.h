// edgeagent — a small strict JSON value type and parser (RFC 8259).
//
// Used by the grammar engine to read JSON Schemas and by tests to read the
// JSON-Schema-Test-Suite. Numbers keep their original lexeme so integer-ness and
// exact decimal values can be decided without floating point rounding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeagent {

class Json {
 public:
  enum class Type : uint8_t { Null, Bool, Number, String, Array, Object };

  Json() = default;
  static Json null() { return Json(); }
  static Json boolean(bool b) { Json j; j.type_ = Type::Bool; j.bool_ = b; return j; }
  static Json number(std::string lexeme) { Json j; j.type_ = Type::Number; j.str_ = std::move(lexeme); return j; }
  static Json string(std::string s) { Json j; j.type_ = Type::String; j.str_ = std::move(s); return j; }
  static Json array() { Json j; j.type_ = Type::Array; return j; }
  static Json object() { Json j; j.type_ = Type::Object; return j; }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return bool_; }
  // String value (UTF-8) for strings; the number's source lexeme for numbers.
  const std::string& str() const { return str_; }
  const std::vector<Json>& items() const { return items_; }
  std::vector<Json>& items() { return items_; }
  // Object members in source order (duplicate keys: the last one wins in find()).
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }
  std::vector<std::pair<std::string, Json>>& members() { return members_; }
  const Json* find(std::string_view key) const;

  // True when a number's value is mathematically an integer (1, 1.0, 1e2, -0).
  bool number_is_integer() const;
  double number_value() const;

  // Source position (1-based) of the value, 0 when constructed in code.
  int line = 0, column = 0;

  // Serialization like Python's json.dumps defaults: separators ", " and ": ",
  // ensure_ascii (non-ASCII escaped as \uXXXX, surrogate pairs above the BMP).
  // Numbers are written with their original lexeme.
  std::string dump() const;
  // Compact serialization without spaces, UTF-8 kept raw.
  std::string dump_compact() const;

  // JSON Schema equality: numbers compare by value (1 == 1.0), objects ignore order.
  bool equals(const Json& other) const;

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  std::string str_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses one JSON text (RFC 8259, strict: no comments, no trailing commas, UTF-8
// validated, lone surrogate escapes refused). Throws edgeagent::JsonParseError
// (declared in grammar.h) with line and column. Nesting deeper than max_depth is
// refused (the parser is iterative-safe up to that limit).
Json parse_json(std::string_view text, int max_depth = 256);

// Escapes a UTF-8 string as a JSON string literal (with quotes). ensure_ascii as above.
std::string json_quote(std::string_view s, bool ensure_ascii);

}  // namespace edgeagent
