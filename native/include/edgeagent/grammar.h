// edgeagent — native grammar engine.
//
//   Grammar          an immutable byte-level pushdown automaton, built from a JSON Schema,
//                    GBNF text, a regex, or a tool-call envelope. Shareable, thread-safe.
//   CompiledGrammar  a Grammar bound to a Vocabulary, with lazily filled per-state token
//                    mask caches (context-independent accepted tokens + the few
//                    context-dependent tokens that are checked at run time). Shareable.
//   GrammarMatcher   the per-sequence state: a set of (automaton node, persistent stack)
//                    configurations, so ambiguous and recursive grammars work. One per
//                    generation; not thread-safe (use one matcher per thread).
//
// Errors are typed (GrammarError and subclasses) and name what was wrong and where.
// No user input can abort the process: all limits are explicit (GrammarLimits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "edgeagent/errors.h"
#include "edgeagent/json.h"
#include "edgeagent/vocab.h"

namespace edgeagent {

// ---------------------------------------------------------------- errors
// Base of the grammar engine's errors; an edgeagent::Error like every typed core error.
class GrammarError : public Error {
 public:
  explicit GrammarError(const std::string& what) : Error(what) {}
};

// Malformed JSON text (schema or instance). line/column are 1-based.
class JsonParseError : public GrammarError {
 public:
  JsonParseError(const std::string& msg, int line, int column);
  int line, column;
};

// A schema the compiler cannot turn into an exact grammar: an unsupported keyword
// (keyword() names it), a remote $ref, an invalid keyword value... pointer() is the JSON
// pointer of the schema object concerned ("" = root).
class SchemaError : public GrammarError {
 public:
  SchemaError(const std::string& msg, std::string keyword, std::string pointer);
  const std::string& keyword() const { return keyword_; }
  const std::string& pointer() const { return pointer_; }
 private:
  std::string keyword_, pointer_;
};

// GBNF text errors. line/column are 1-based.
class EbnfParseError : public GrammarError {
 public:
  EbnfParseError(const std::string& msg, int line, int column);
  int line, column;
};

// Regex errors (unsupported construct named, or malformed). position is a 0-based byte offset.
class RegexError : public GrammarError {
 public:
  RegexError(const std::string& msg, size_t position);
  size_t position;
};

// A configured limit (states, repetition bound, nesting depth, matcher state size...) was hit.
class GrammarLimitError : public GrammarError {
 public:
  explicit GrammarLimitError(const std::string& what) : GrammarError(what) {}
};

// ---------------------------------------------------------------- options
struct GrammarLimits {
  size_t max_nodes = 1u << 20;          // automaton nodes after lowering
  size_t max_rules = 1u << 16;
  uint32_t max_repetition = 100000;      // largest finite bound in {m,n}, maxItems, maxLength...
  // Compile-time recursion is bounded by these two (about 2 KiB of stack per schema level:
  // 64 levels fit a 256 KiB thread stack). Runtime nesting of generated JSON is not
  // recursive (heap stacks) and is bounded by max_stack_depth instead.
  int max_schema_depth = 64;             // nesting of schema objects / JSON values in the schema
  int max_json_depth = 128;              // nesting accepted by the JSON parser for schema text
  size_t max_enum_members = 100000;
  size_t max_required_for_any_order = 12;  // 2^n object states in PropertyOrder::Any
  size_t max_matcher_configs = 50000;    // configurations in one matcher state
  size_t max_stack_depth = 100000;       // runtime nesting depth of the pushdown stack
};

// Whitespace in generated/validated JSON.
//   Compact:  exactly Python json.dumps default separators: ", " between items and
//             members, ": " after keys, nothing else ({"a": 1, "b": [1, 2]}).
//   Flexible: any JSON whitespace [ \t\n\r]* wherever RFC 8259 allows it.
enum class Whitespace : uint8_t { Compact, Flexible };

// Object member order.
//   Schema: properties in the order of "properties", optional ones skippable; additional
//           properties (when allowed) after the listed ones. Best for generation.
//   Any:    members in any order, required ones tracked exactly (2^|required| object
//           states, see GrammarLimits::max_required_for_any_order); duplicate keys are not
//           detected. For validation.
// Strings: literal strings (keys, enum/const) are matched in their canonical json.dumps
// (ensure_ascii=False) spelling in Compact mode, in any valid spelling (\uXXXX escapes,
// surrogate pairs) in Flexible mode; free strings accept every valid escape in both.
enum class PropertyOrder : uint8_t { Schema, Any };

struct JsonSchemaOptions {
  Whitespace whitespace = Whitespace::Compact;
  PropertyOrder property_order = PropertyOrder::Schema;
  // Value assumed for "additionalProperties" when a schema omits it: false suits tool
  // arguments (a name `required` lists and `properties` does not still takes any value);
  // true is plain JSON Schema semantics.
  bool additional_properties_default = false;
  // Ignore unsupported keywords instead of refusing the schema; each ignored keyword is
  // reported in the warnings vector as "ignored keyword 'k' at /pointer".
  bool lenient = false;
  // A schema that admits no JSON value at all (false, minimum > maximum, recursion without
  // a base case...) is a SchemaError unless this is set (then the grammar rejects everything).
  bool allow_unsatisfiable = false;
  // "format" constrains strings (format-assertion). false = annotation only, as in the
  // default 2020-12 vocabulary (the format is still checked to be a known one).
  bool assert_format = true;
  // oneOf is compiled as an alternation; exclusivity is NOT enforced. With strict_one_of a
  // oneOf whose branches are not provably disjoint (different types or disjoint
  // const/enum values, also on a common required property) is refused with a SchemaError
  // naming 'oneOf' instead.
  bool strict_one_of = false;
  GrammarLimits limits;

  // Options matching JSON Schema 2020-12 validation semantics: flexible whitespace, any
  // property order, additionalProperties default true, format as annotation, strict oneOf.
  static JsonSchemaOptions validation() {
    JsonSchemaOptions o;
    o.whitespace = Whitespace::Flexible;
    o.property_order = PropertyOrder::Any;
    o.additional_properties_default = true;
    o.assert_format = false;
    o.strict_one_of = true;
    return o;
  }
};

// ---------------------------------------------------------------- tool-call envelopes
struct ToolSpec {
  std::string name;
  Json parameters;  // JSON Schema of the arguments object (null = any object)
};

enum class ToolChoice : uint8_t {
  Auto,      // free text, or tool calls
  Required,  // one or more tool calls, nothing else
  None,      // free text only
  Named,     // exactly the tool ToolCallOptions::tool_name (1..max_parallel_calls calls)
};

enum class ToolFormat : uint8_t {
  // Qwen / Hermes: <tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>
  // calls separated by "\n". In Auto mode: free text (without the text "<tool_call>"),
  // optionally followed by the calls.
  Hermes,
  // [{"name": "NAME", "arguments": ARGS}, ...]  (a single JSON array; in Auto mode free
  // text not starting with '[' is the alternative)
  JsonArray,
  // {"name": "NAME", "arguments": ARGS}  (one bare JSON object: exactly one call; in
  // Auto mode free text not starting with '{' is the alternative)
  JsonObject,
};

struct ToolCallOptions {
  ToolChoice choice = ToolChoice::Auto;
  std::string tool_name;          // for ToolChoice::Named
  int max_parallel_calls = 1;     // 1..N calls
  ToolFormat format = ToolFormat::Hermes;
  JsonSchemaOptions schema;       // options used for each tool's argument schema
};

namespace detail { struct Automaton; struct MaskCache; }

// ---------------------------------------------------------------- Grammar
class Grammar {
 public:
  // JSON Schema (text or parsed). Supported keywords: type (incl. arrays), properties,
  // required, additionalProperties, enum, const, anyOf, oneOf (alternation: exclusivity
  // is NOT enforced), $ref/$defs (local: "#", "#/$defs/x", JSON pointers; recursion
  // allowed), items, prefixItems, minItems, maxItems, minLength, maxLength (code
  // points), pattern (regex subset, search semantics), minimum/maximum/exclusiveMinimum/
  // exclusiveMaximum (exact digit-range grammars, decimal bounds with |bound| < 1e18),
  // format (date, time,
  // date-time, email, uuid, uri: regular approximations of RFC 3339 / 5321 / 4122 / 3986;
  // leap seconds, quoted e-mail local parts and IP-literal hosts are not modelled).
  // Numbers by value in Flexible whitespace (validation) mode, as JSON Schema compares
  // them: "integer" accepts 1.0 and m[.0]e±E (1e2, 5000e-3); bounded numbers accept
  // <decimal>e±E within the bounds; exact for |E| <= 20 (beyond: a zero mantissa; for
  // integers, mantissas with a non-zero fraction such as 1.5e1 are not read). Compact
  // (generation) mode writes plain decimals only, exponents where no bound applies.
  // Annotations ignored: title, description, default, examples, $schema, $id, $comment,
  // deprecated, readOnly, writeOnly; $defs/definitions are containers; $anchor names a
  // schema for "#name" refs. $ref may have sibling keywords (merged, allOf-style, when
  // they do not overlap). $schema must be an official metaschema URI. Anything else is a
  // SchemaError naming the keyword and its location unless options.lenient.
  static std::shared_ptr<const Grammar> from_json_schema(std::string_view schema_text,
                                                         const JsonSchemaOptions& options = {},
                                                         std::vector<std::string>* warnings = nullptr);
  static std::shared_ptr<const Grammar> from_json_schema(const Json& schema,
                                                         const JsonSchemaOptions& options = {},
                                                         std::vector<std::string>* warnings = nullptr);
  // Any JSON value.
  static std::shared_ptr<const Grammar> any_json(Whitespace ws = Whitespace::Compact,
                                                 const GrammarLimits& limits = {});
  // llama.cpp GBNF: rules "name ::= alternatives", string literals "..." with escapes
  // (\n \t \r \\ \" \[ \] \xHH \uHHHH \UHHHHHHHH), character classes [a-z], [^...],
  // '.', grouping, * + ? {m} {m,} {m,n}, '#' comments. Left recursion is refused.
  static std::shared_ptr<const Grammar> from_ebnf(std::string_view text,
                                                  std::string_view root_rule = "root",
                                                  const GrammarLimits& limits = {});
  // Regex subset (anchored: the whole output must match): literals, escapes
  // (\n \t \r \f \v \0 \xHH \uHHHH \u{H..}), classes [..] [^..] with ranges, \d \w \s
  // \D \W \S, '.', '|', groups (...) (?:...), quantifiers * + ? {m} {m,} {m,n} (lazy
  // '?' suffix accepted, same language), '^' at the start and '$' at the end.
  // Refused by name: backreferences, lookahead/lookbehind, named groups' references,
  // \b \B, possessive quantifiers, anchors elsewhere. Matches code points (UTF-8 output).
  static std::shared_ptr<const Grammar> from_regex(std::string_view pattern,
                                                   const GrammarLimits& limits = {});
  // Tool-call envelope; tool names are gated alternatives that a matcher can switch
  // off at run time (GrammarMatcher::set_tool_enabled).
  static std::shared_ptr<const Grammar> from_tools(const std::vector<ToolSpec>& tools,
                                                   const ToolCallOptions& options = {},
                                                   std::vector<std::string>* warnings = nullptr);

  ~Grammar();
  size_t num_nodes() const;
  size_t num_rules() const;
  const std::vector<std::string>& tool_names() const;
  // Human-readable dump of the automaton (debugging).
  std::string debug_string() const;

  const detail::Automaton& automaton() const { return *automaton_; }
  explicit Grammar(std::unique_ptr<detail::Automaton> a);

 private:
  std::unique_ptr<detail::Automaton> automaton_;
};

// ---------------------------------------------------------------- CompiledGrammar
class CompiledGrammar {
 public:
  // Binds a grammar to a vocabulary. Mask caches are filled lazily per automaton node
  // (thread-safe); caches for sub-automata that recur across grammars are shared through
  // the vocabulary. precompute=true fills every node's cache now (grammars of at most
  // 16384 nodes): compile then costs ~0.5 ms per tool schema and the first masks are as
  // fast as later ones.
  CompiledGrammar(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const Vocabulary> vocab,
                  bool precompute = false);
  ~CompiledGrammar();
  const std::shared_ptr<const Grammar>& grammar() const { return grammar_; }
  const std::shared_ptr<const Vocabulary>& vocab() const { return vocab_; }
  // Internal: the cache of one node (computed on first use).
  const detail::MaskCache& node_cache(uint32_t node) const;
  // Internal: resolves `prev`'s context-dependent tokens with the top frames' return nodes
  // known (key = node, ret1..retk); bottom_real: those frames are the whole stack.
  // Returns nullptr when the context-cache memory budget (128 MiB per CompiledGrammar) is
  // spent and the key is not cached (the caller then checks the tokens directly).
  const detail::MaskCache* context_cache(const std::vector<uint32_t>& key, bool bottom_real,
                                         const detail::MaskCache& prev) const;
  size_t cached_nodes() const;

 private:
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const Vocabulary> vocab_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------- GrammarMatcher
class GrammarMatcher {
 public:
  // Token-level matcher.
  explicit GrammarMatcher(std::shared_ptr<const CompiledGrammar> compiled,
                          size_t max_rollback_tokens = 0 /* 0 = unlimited */);
  // Byte-level matcher (no vocabulary): accept_bytes / can_terminate / jump-forward only.
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                          size_t max_rollback_tokens = 0);
  ~GrammarMatcher();
  GrammarMatcher(GrammarMatcher&&) noexcept;
  GrammarMatcher& operator=(GrammarMatcher&&) noexcept;

  // Writes the allowed-token bitmask (bit i of words[i/32] set = token i allowed).
  // Bits beyond the vocabulary are cleared. EOS ids are allowed only where the grammar
  // can end; after termination nothing is allowed. Special/unused tokens are never
  // allowed. Throws GrammarError without a vocabulary or when n_words is too small.
  void fill_next_token_bitmask(uint32_t* words, size_t n_words);
  // Advances by one token. Returns false (state unchanged) when the token is not allowed.
  bool accept_token(int32_t token_id);
  // Advances by raw bytes (all or nothing; counts as one rollback step).
  bool accept_bytes(std::string_view bytes);
  // Undoes the last n accept_token/accept_bytes steps. Throws GrammarError when n
  // exceeds the recorded history.
  void rollback(size_t n_steps);
  size_t history_size() const;
  // EOS was accepted.
  bool is_terminated() const;
  // The grammar can end here (EOS would be accepted).
  bool can_terminate() const;
  // The grammar must end here: EOS is the only token allowed.
  bool must_terminate() const;
  // Bytes forced next (the grammar allows exactly one continuation byte, repeatedly).
  // Stops where a choice exists, where the grammar could end, or after max_bytes.
  std::string find_jump_forward_bytes(size_t max_bytes = 4096) const;
  void reset();

  // Tool gates (grammars from Grammar::from_tools). A gate is checked where a tool name
  // starts (right after {"name": "), so switching it affects calls whose name has not
  // begun yet; the current state is recomputed, masks respect the change immediately.
  // Throws GrammarError for unknown names.
  void set_tool_enabled(std::string_view tool_name, bool enabled);
  bool tool_enabled(std::string_view tool_name) const;

  // Number of configurations in the current state (diagnostics).
  size_t num_configs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeagent
