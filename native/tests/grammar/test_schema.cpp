// JSON Schema compiler: keywords, exact integer ranges, strings, errors, hostile inputs.
#include <chrono>

#include "test_util.h"

using namespace edgeagent;
using eatest::matches;

namespace {
std::shared_ptr<const Grammar> S(const std::string& s, JsonSchemaOptions o = {}) {
  return Grammar::from_json_schema(s, o);
}
JsonSchemaOptions V() { return JsonSchemaOptions::validation(); }
}  // namespace

TEST(schema_object_compact_order_and_required) {
  auto g = S(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
                "required":["b"]})");
  CHECK(matches(g, R"({"b": "x"})"));
  CHECK(matches(g, R"({"a": 1, "b": "x", "c": true})"));
  CHECK(matches(g, R"({"a": -5, "b": ""})"));
  CHECK(!matches(g, R"({"a": 1})"));                  // b required
  CHECK(!matches(g, R"({"b": "x", "a": 1})"));        // schema order in compact mode
  CHECK(!matches(g, R"({"b":"x"})"));                 // compact separators
  CHECK(!matches(g, R"({"b": "x", "d": 1})"));        // additionalProperties default false
  auto any = S(R"({"type":"object","properties":{"a":{"type":"integer"}}})", V());
  CHECK(matches(any, R"({ "z" : [1, {"q": null}] ,"a":1 })"));  // any order, flexible, additional allowed
  CHECK(!matches(any, R"({"a": "x"})"));
  CHECK(!matches(any, R"({"\u0061": "x"})"));  // escaped key is still "a"
}

TEST(schema_required_name_not_in_properties) {
  // Closed by default (tool arguments): the required name is still asked for, any value.
  auto g = S(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"]})");
  CHECK(matches(g, R"({"a": "x", "b": 1})"));
  CHECK(matches(g, R"({"a": "x", "b": {"k": [null]}})"));
  CHECK(!matches(g, R"({"a": "x"})"));           // b required
  CHECK(!matches(g, R"({"a": "x", "c": 1})"));   // other names stay closed
  // Closed by the schema itself: no value can have b.
  CHECK_THROWS_AS(S(R"({"type":"object","properties":{},"required":["b"],"additionalProperties":false})"),
                  SchemaError, "admits no valid");
  // additionalProperties as a schema: b's value follows it.
  auto typed = S(R"({"type":"object","required":["b"],"additionalProperties":{"type":"integer"}})");
  CHECK(matches(typed, R"({"b": 3})"));
  CHECK(!matches(typed, R"({"b": "x"})"));
}

TEST(schema_any_order_required_tracking) {
  auto g = S(R"({"properties":{"a":{},"b":{},"c":{}},"required":["a","c"],"additionalProperties":false})", V());
  CHECK(matches(g, R"({"c": 1, "a": 2})"));
  CHECK(matches(g, R"({"b": 0, "c": 1, "a": 2})"));
  CHECK(!matches(g, R"({"b": 0, "c": 1})"));
  CHECK(!matches(g, R"({"a": 1, "d": 1, "c": 2})"));
  CHECK(matches(g, "[1]"));  // not an object: no type given
}

TEST(schema_integer_ranges_are_exact) {
  struct R { const char* schema; long long lo, hi; };
  R cases[] = {{R"({"type":"integer","minimum":-123,"maximum":4567})", -123, 4567},
               {R"({"type":"integer","minimum":5})", 5, 1LL << 40},
               {R"({"type":"integer","maximum":-17})", -(1LL << 40), -17},
               {R"({"type":"integer","exclusiveMinimum":-10,"exclusiveMaximum":100})", -9, 99},
               {R"({"type":"integer","minimum":0.5,"maximum":99.5})", 1, 99},
               {R"({"type":"integer","minimum":1000,"maximum":1000})", 1000, 1000},
               {R"({"type":"integer","minimum":-9999,"maximum":-100})", -9999, -100}};
  for (auto& c : cases) {
    auto g = S(c.schema);
    int bad = 0;
    for (long long x = -12000; x <= 12000; ++x) {
      bool want = x >= c.lo && x <= c.hi;
      if (matches(g, std::to_string(x)) != want) {
        if (bad++ < 3) std::printf("    %s: %lld\n", c.schema, x);
      }
    }
    CHECK(bad == 0);
    CHECK(!matches(g, "007"));
    CHECK(!matches(g, "1.5"));
  }
  CHECK_THROWS_AS(S(R"({"type":"integer","minimum":10,"maximum":1})"), SchemaError, "admits no valid");
  auto v = S(R"({"type":"integer","minimum":10,"maximum":1})", [] { auto o = V(); o.allow_unsatisfiable = true; return o; }());
  CHECK(!matches(v, "5"));
}

TEST(schema_number_bounds) {
  auto g = S(R"({"type":"number","minimum":-2,"exclusiveMaximum":3})", V());
  // validation mode reads exponent forms by value
  const char* yes[] = {"-2", "-2.0", "-1.999", "0", "-0.5", "2.999", "2", "1e0", "2.5E0", "-20e-1", "0.29e1", "0e9"};
  const char* no[] = {"-2.001", "-3", "3", "3.0", "3.5", "10", "-2.5", "3e0", "0.3e1", "-2.1e0", "1e1", "-201e-2"};
  for (auto* y : yes)
    if (!matches(g, y)) { std::printf("    should accept %s\n", y); CHECK(false); }
  for (auto* n : no)
    if (matches(g, n)) { std::printf("    should reject %s\n", n); CHECK(false); }
  // decimal bounds, exact: every value k/1000 in [-3, 3], written in several forms
  struct B { const char* schema; long long lo; bool lo_strict; bool has_lo; long long hi; bool hi_strict; bool has_hi; };
  B bs[] = {{R"({"type":"number","minimum":1.1})", 1100, false, true, 0, false, false},
            {R"({"type":"number","exclusiveMinimum":1.1,"maximum":2.25})", 1100, true, true, 2250, false, true},
            {R"({"type":"number","minimum":-0.5,"exclusiveMaximum":0.75})", -500, false, true, 750, true, true},
            {R"({"type":"number","exclusiveMinimum":-2.125,"exclusiveMaximum":-1.5})", -2125, true, true, -1500, true, true},
            {R"({"type":"number","maximum":-0.001})", 0, false, false, -1, false, true},
            {R"({"type":"number","exclusiveMinimum":0,"maximum":0.1})", 0, true, true, 100, false, true},
            {R"({"type":"number","minimum":2.5,"maximum":2.5})", 2500, false, true, 2500, false, true}};
  for (auto& b : bs) {
    auto gb = S(b.schema, V());
    int bad = 0;
    for (long long k = -3000; k <= 3000; ++k) {
      bool want = (!b.has_lo || (b.lo_strict ? k > b.lo : k >= b.lo)) && (!b.has_hi || (b.hi_strict ? k < b.hi : k <= b.hi));
      long long a = k < 0 ? -k : k;
      std::string sign = k < 0 ? "-" : "";
      char frac[8];
      snprintf(frac, sizeof frac, "%03lld", a % 1000);
      std::vector<std::string> forms = {sign + std::to_string(a / 1000) + "." + frac, sign + std::to_string(a / 1000) + "." + frac + "00"};
      if (a % 1000 == 0) forms.push_back(sign + std::to_string(a / 1000));
      for (auto& f : forms)
        if (matches(gb, f) != want && bad++ < 3) std::printf("    %s: %s expected %d\n", b.schema, f.c_str(), int(want));
    }
    CHECK(bad == 0);
  }
  auto plain = S(R"({"type":"number"})");
  for (auto* x : {"0", "-0", "1.5e-3", "12E+4", "-0.0"}) CHECK(matches(plain, x));
  for (auto* x : {"01", "1.", ".5", "+1", "1e", "NaN"}) CHECK(!matches(plain, x));
  auto integer = S(R"({"type":"integer"})", V());
  CHECK(matches(integer, "1.0"));
  CHECK(!matches(integer, "1.5"));
}

TEST(schema_strings) {
  auto g = S(R"({"type":"string","minLength":2,"maxLength":3})");
  CHECK(matches(g, "\"ab\""));
  CHECK(matches(g, "\"\xC3\xA9\xE2\x82\xAC\""));  // 2 code points, 5 bytes
  CHECK(matches(g, "\"a\\n\\u00e9\""));            // escapes count as one
  CHECK(matches(g, "\"\\ud83d\\ude00x\""));        // surrogate pair = one code point
  CHECK(!matches(g, "\"a\""));
  CHECK(!matches(g, "\"abcd\""));
  CHECK(!matches(g, "\"\\ud83dx\""));              // lone surrogate
  CHECK(!matches(g, "\"a\tb\""));                  // raw control character
  CHECK(!matches(g, "\"a\\x\""));                  // invalid escape
  auto p = S(R"({"type":"string","pattern":"a[0-9]+"})");
  CHECK(matches(p, "\"xxa12yy\""));  // search semantics
  CHECK(!matches(p, "\"xxayy\""));
  auto pa = S(R"({"type":"string","pattern":"^a[0-9]+$","maxLength":3})");
  CHECK(matches(pa, "\"a12\""));
  CHECK(!matches(pa, "\"a123\""));
  CHECK(!matches(pa, "\"xa1\""));
  CHECK(matches(pa, "\"\\u00611\""));  // escaped 'a'
  auto c = S(R"({"const":"é\"\n"})");
  CHECK(matches(c, "\"é\\\"\\n\""));
  CHECK(!matches(c, "\"\\u00e9\\\"\\n\""));  // compact: canonical form only
  auto cv = S(R"({"const":"é\"\n"})", V());
  CHECK(matches(cv, "\"\\u00e9\\\"\\u000A\""));
}

TEST(schema_formats) {
  struct F { const char* fmt; std::vector<const char*> ok, bad; };
  F fs[] = {{"date", {"2024-02-29", "1999-12-31"}, {"2023-02-29", "2024-13-01", "2024-04-31", "24-01-01"}},
            {"time", {"23:59:59Z", "08:30:06.283185+01:00"}, {"24:00:00Z", "08:30:06", "8:30:06Z"}},
            {"date-time", {"1985-04-12T23:20:50.52Z"}, {"1985-04-12 23:20:50Z"}},
            {"uuid", {"2eb8aa08-aa98-11ea-b4aa-73b441d16380"}, {"2eb8aa08-aa98-11ea-b4aa-73b441d1638"}},
            {"email", {"joe.bloggs@example.com"}, {"2962", "a@@b.c", ".a@b.c"}},
            {"uri", {"http://example.com/a?b=c#d", "urn:isbn:123"}, {"//foo", "http://a b"}}};
  for (auto& f : fs) {
    auto g = S(std::string(R"({"type":"string","format":")") + f.fmt + "\"}");
    for (auto* x : f.ok)
      if (!matches(g, std::string("\"") + x + "\"")) { std::printf("    %s should accept %s\n", f.fmt, x); CHECK(false); }
    for (auto* x : f.bad)
      if (matches(g, std::string("\"") + x + "\"")) { std::printf("    %s should reject %s\n", f.fmt, x); CHECK(false); }
  }
  CHECK_THROWS_AS(S(R"({"type":"string","format":"ipv4"})"), SchemaError, "unsupported format 'ipv4'");
}

TEST(schema_arrays) {
  auto g = S(R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"boolean"},
                "minItems":1,"maxItems":4})");
  CHECK(matches(g, "[1]"));
  CHECK(matches(g, "[1, \"a\", true, false]"));
  CHECK(!matches(g, "[]"));
  CHECK(!matches(g, "[1, \"a\", true, false, true]"));
  CHECK(!matches(g, "[\"a\"]"));
  CHECK(!matches(g, "[1, 2]"));
  auto none = S(R"({"prefixItems":[{}],"items":false})", V());
  CHECK(matches(none, "[ 1 ]"));
  CHECK(!matches(none, "[1, 2]"));
}

TEST(schema_enum_anyof_ref_recursion) {
  auto e = S(R"({"enum":["a", 1, null, {"k": [1, 2]}, "a"]})");
  CHECK(matches(e, "\"a\""));
  CHECK(matches(e, "1"));
  CHECK(matches(e, "null"));
  CHECK(matches(e, "{\"k\": [1, 2]}"));
  CHECK(!matches(e, "\"b\""));
  auto ef = S(R"({"type":"string","enum":["a", 1, "bb"],"maxLength":1})");  // filtered by the rest
  CHECK(matches(ef, "\"a\""));
  CHECK(!matches(ef, "\"bb\""));
  CHECK(!matches(ef, "1"));
  auto a = S(R"({"anyOf":[{"type":"integer"},{"type":"string","maxLength":1}]})");
  CHECK(matches(a, "5"));
  CHECK(matches(a, "\"x\""));
  CHECK(!matches(a, "\"xy\""));
  auto tree = S(R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
     "kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}},"$ref":"#/$defs/node"})");
  CHECK(matches(tree, R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": [{"v": 4, "kids": []}]}]})"));
  CHECK(!matches(tree, R"({"v": 1, "kids": [{"kids": []}]})"));
  // deep nesting through recursion is fine at run time
  std::string deep = "{\"v\": 0", close = "}";
  for (int i = 0; i < 300; ++i) { deep += ", \"kids\": [{\"v\": 0"; close += "]}"; }
  CHECK(matches(tree, deep + close));
}

TEST(schema_errors_name_keyword_and_location) {
  try {
    S(R"({"type":"object","properties":{"a":{"type":"object","patternProperties":{"x":{}}}}})");
    CHECK(false);
  } catch (const SchemaError& e) {
    CHECK(std::string(e.what()) == "unsupported keyword 'patternProperties' at /properties/a");
    CHECK(e.keyword() == "patternProperties");
    CHECK(e.pointer() == "/properties/a");
  }
  std::vector<std::string> warn;
  JsonSchemaOptions o;
  o.lenient = true;
  auto g = Grammar::from_json_schema(R"({"type":"object","minProperties":1,"properties":{"a":{"not":{}}}})", o, &warn);
  CHECK(warn.size() == 2);
  CHECK(warn.size() == 2 && warn[0] == "ignored keyword 'minProperties' at (root)");
  CHECK(warn.size() == 2 && warn[1] == "ignored keyword 'not' at /properties/a");
  CHECK_THROWS_AS(S(R"({"$ref":"http://example.com/s.json"})"), SchemaError, "remote $ref");
  CHECK_THROWS_AS(S(R"({"$ref":"#/$defs/missing"})"), SchemaError, "unresolvable $ref");
  CHECK_THROWS_AS(S(R"({"type":"strin"})"), SchemaError, "unknown type 'strin'");
  CHECK_THROWS_AS(S(R"({"type":"string","pattern":"(a)\\1"})"), SchemaError, "backreference");
  CHECK_THROWS_AS(S(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})", V()), SchemaError, "oneOf");
  auto disc = S(R"({"oneOf":[{"type":"object","properties":{"k":{"const":"a"}},"required":["k"]},
                             {"type":"object","properties":{"k":{"const":"b"}},"required":["k"]}]})", V());
  CHECK(matches(disc, R"({"k": "b"})"));
  CHECK_THROWS_AS(S("{\"type\": [1]}"), SchemaError, "invalid entry in 'type'");
  CHECK_THROWS_AS(S("{\"minLength\": -1}"), SchemaError, "non-negative integer");
  CHECK_THROWS_AS(S("{\"a\": }"), JsonParseError, "line 1, column 7");
}

TEST(schema_hostile_inputs) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  // deep nesting
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{\"items\":";
  deep += "{}";
  for (int i = 0; i < 10000; ++i) deep += "}";
  CHECK_THROWS_AS(S(deep), JsonParseError, "nesting deeper");
  std::string deep100;
  for (int i = 0; i < 100; ++i) deep100 += "{\"items\":";
  deep100 += "{}";
  for (int i = 0; i < 100; ++i) deep100 += "}";
  CHECK_THROWS_AS(S(deep100), GrammarLimitError, "nested deeper than 64");
  std::string deep60;
  for (int i = 0; i < 60; ++i) deep60 += "{\"type\":\"array\",\"items\":";
  deep60 += "{\"type\":\"integer\"}";
  for (int i = 0; i < 60; ++i) deep60 += "}";
  auto g60 = S(deep60);
  CHECK(matches(g60, std::string(60, '[') + "7" + std::string(60, ']')));
  // huge bounds
  CHECK_THROWS_AS(S(R"({"type":"array","maxItems":1e9})"), GrammarLimitError, "maxItems");
  CHECK_THROWS_AS(S(R"({"type":"string","maxLength":1000000000})"), GrammarLimitError, "maxLength");
  CHECK_THROWS_AS(S(R"({"type":"string","minLength":99999999999999999999})"), GrammarLimitError, "minLength");
  CHECK_THROWS_AS(S(R"({"type":"integer","minimum":1e300})"), SchemaError, "outside the supported range");
  CHECK_THROWS_AS(S(R"({"type":"string","pattern":"a{1000000}"})"), GrammarLimitError, "limit");
  // recursion without base case
  CHECK_THROWS_AS(S(R"({"$ref":"#"})"), SchemaError, "admits no valid");
  CHECK_THROWS_AS(S(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})"), SchemaError,
                  "admits no valid");
  CHECK_THROWS_AS(S(R"({"anyOf":[{"$ref":"#"},{"type":"null"}]})"), GrammarError, "left recursion");
  CHECK_THROWS_AS(S(R"({"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]})"), SchemaError,
                  "admits no valid");
  CHECK_THROWS_AS(S(R"({"type":"array","items":{"$ref":"#"},"minItems":1})"), SchemaError, "admits no valid");
  // a recursive schema with a base case is fine
  auto ok = S(R"({"type":"array","items":{"$ref":"#"}})");
  CHECK(matches(ok, "[[], [[]]]"));
  // self-referencing $ref with siblings: depth limit, not a hang
  CHECK_THROWS_AS(S(R"({"$defs":{"a":{"$ref":"#/$defs/a","minLength":1}},"$ref":"#/$defs/a"})"), GrammarError, "");
  // a chain of 5,000 $refs compiles without deep C++ recursion
  std::string chain = "{\"$ref\":\"#/$defs/d0\",\"$defs\":{";
  for (int i = 0; i < 5000; ++i) chain += "\"d" + std::to_string(i) + "\":{\"$ref\":\"#/$defs/d" + std::to_string(i + 1) + "\"},";
  chain += "\"d5000\":{\"type\":\"integer\"}}}";
  auto gc = S(chain);
  CHECK(matches(gc, "42"));
  CHECK(!matches(gc, "\"x\""));
  // 10,000 enum members
  std::string en = "{\"enum\":[";
  for (int i = 0; i < 10000; ++i) en += (i ? ",\"member_" : "\"member_") + std::to_string(i) + "\"";
  en += "]}";
  auto big = S(en);
  CHECK(matches(big, "\"member_9999\""));
  CHECK(!matches(big, "\"member_10000\""));
  auto cg = std::make_shared<CompiledGrammar>(big, eatest::synthetic_vocab());
  GrammarMatcher m(cg);
  std::vector<uint32_t> mask(eatest::synthetic_vocab()->mask_words());
  m.fill_next_token_bitmask(mask.data(), mask.size());
  CHECK(m.accept_bytes("\"member_12"));
  m.fill_next_token_bitmask(mask.data(), mask.size());
  // too many required properties for any-order validation
  std::string req = "{\"properties\":{";
  std::string names;
  for (int i = 0; i < 20; ++i) {
    req += std::string(i ? "," : "") + "\"p" + std::to_string(i) + "\":{}";
    names += std::string(i ? "," : "") + "\"p" + std::to_string(i) + "\"";
  }
  req += "},\"required\":[" + names + "]}";
  CHECK_THROWS_AS(S(req, V()), GrammarLimitError, "required properties");
  CHECK(S(req) != nullptr);  // schema order: linear
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("    hostile inputs handled in %.2f s\n", secs);
  CHECK(secs < 20);
}
