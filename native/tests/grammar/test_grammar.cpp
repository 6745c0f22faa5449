// GBNF and regex front ends.
#include "test_util.h"

using namespace edgeagent;
using eatest::matches;

TEST(ebnf_basic) {
  auto g = Grammar::from_ebnf(R"(
# a comment
root ::= "a" b* ("x" | "y"){1,2} c?   # trailing comment
b ::= [0-9]
c ::= [^a-z\n]
)");
  CHECK(matches(g, "ax"));
  CHECK(matches(g, "a123xy"));
  CHECK(matches(g, "a1y#"));
  CHECK(!matches(g, "a1yz"));
  CHECK(!matches(g, "axyx"));
  CHECK(!matches(g, "b"));
}

TEST(ebnf_recursion_and_unicode) {
  auto g = Grammar::from_ebnf(R"G(root ::= "(" root ")" | "é" | [α-ω]+)G");
  CHECK(matches(g, "((é))"));
  CHECK(matches(g, "(αβγ)"));
  CHECK(!matches(g, "((é)"));
  CHECK(!matches(g, "(A)"));
  auto any = Grammar::from_ebnf("root ::= .{2}");
  CHECK(matches(any, "\xE2\x82\xAC" "a"));
  CHECK(!matches(any, "\xE2\x82"));
}

TEST(ebnf_errors) {
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= foo"), EbnfParseError, "undefined rule 'foo'");
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= \"abc"), EbnfParseError, "line 1, column 10");
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= \"a\"\nx ::= [a-"), EbnfParseError, "line 2");
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= root \"a\" | \"b\""), GrammarError, "left recursion");
  CHECK_THROWS_AS(Grammar::from_ebnf("x ::= \"a\""), EbnfParseError, "root rule");
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= \"a\"{3,1}"), EbnfParseError, "n < m");
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= \"a\"{0,1000000000}"), EbnfParseError, "exceeds the limit");
  CHECK_THROWS_AS(Grammar::from_ebnf("root ::= (\"a\""), EbnfParseError, "unclosed");
}

TEST(regex_basic) {
  auto g = Grammar::from_regex(R"(^[a-c]+\d{2,3}(x|yz)?\.$)");
  CHECK(matches(g, "ab12."));
  CHECK(matches(g, "c123yz."));
  CHECK(!matches(g, "ab1."));
  CHECK(!matches(g, "ab1234."));
  CHECK(!matches(g, "d12."));
  auto w = Grammar::from_regex(R"(\w+\s\W)");
  CHECK(matches(w, "ab_9 !"));
  CHECK(!matches(w, "ab_9 a"));
  auto dot = Grammar::from_regex("a.c");
  CHECK(matches(dot, "a\xC3\xA9" "c"));
  CHECK(!matches(dot, "a\nc"));
  auto u = Grammar::from_regex(R"([^\u0000-\u007f]+)");
  CHECK(matches(u, "\xC3\xA9\xF0\x9F\x98\x80"));
  CHECK(!matches(u, "a"));
}

TEST(regex_refusals_name_the_construct) {
  CHECK_THROWS_AS(Grammar::from_regex(R"((a)\1)"), RegexError, "backreference");
  CHECK_THROWS_AS(Grammar::from_regex(R"(a(?=b))"), RegexError, "lookahead");
  CHECK_THROWS_AS(Grammar::from_regex(R"((?<!a)b)"), RegexError, "lookbehind");
  CHECK_THROWS_AS(Grammar::from_regex(R"(a\bb)"), RegexError, "word boundary");
  CHECK_THROWS_AS(Grammar::from_regex(R"(a^b)"), RegexError, "anchor '^'");
  CHECK_THROWS_AS(Grammar::from_regex(R"(a$b)"), RegexError, "anchor '$'");
  CHECK_THROWS_AS(Grammar::from_regex(R"(\p{L})"), RegexError, "property");
  CHECK_THROWS_AS(Grammar::from_regex(R"([b-a])"), RegexError, "out of order");
  try {
    Grammar::from_regex("abc(?=x)");
  } catch (const RegexError& e) {
    CHECK(e.position == 3);
  }
}

// Mutated inputs must end in a GrammarError (or a grammar), never a crash or another exception.
TEST(front_ends_survive_mutated_inputs) {
  const std::vector<std::string> seeds_schema = {
      R"({"type":"object","properties":{"a":{"type":"array","items":{"$ref":"#/$defs/x"},"maxItems":3}},"required":["a"],"$defs":{"x":{"anyOf":[{"type":"integer","minimum":-3},{"enum":["p","q"]}]}}})",
      R"({"type":"string","pattern":"^(ab|[c-f]\\d{2,3})+$","maxLength":9,"format":"date"})"};
  const std::vector<std::string> seeds_ebnf = {"root ::= \"a\" b* (\"x\" | [^y-z]){1,3}\nb ::= [0-9] | \"(\" root \")\"\n"};
  const std::vector<std::string> seeds_regex = {R"(^[a-c]+\d{2,3}(x|y\.z)?[^\s]$)"};
  uint32_t x = 12345;
  auto rnd = [&]() { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x; };
  const char alphabet[] = "{}[]()\":,\\|*+?^$.-0123456789abAZ #\n\xC3\xA9";
  int others = 0;
  auto mutate = [&](std::string s) {
    int n = 1 + int(rnd() % 4);
    for (int i = 0; i < n && !s.empty(); ++i) {
      size_t p = rnd() % s.size();
      switch (rnd() % 3) {
        case 0: s.erase(p, 1 + rnd() % 3); break;
        case 1: s.insert(p, 1, alphabet[rnd() % (sizeof(alphabet) - 1)]); break;
        default: s[p] = alphabet[rnd() % (sizeof(alphabet) - 1)];
      }
    }
    return s;
  };
  for (int i = 0; i < 1500; ++i) {
    for (auto& seed : seeds_schema) {
      std::string s = mutate(seed);
      try {
        auto g = Grammar::from_json_schema(s, i % 2 ? JsonSchemaOptions::validation() : JsonSchemaOptions());
        GrammarMatcher m(g);
        m.accept_bytes(s.substr(0, 20));
      } catch (const GrammarError&) {
      } catch (const std::exception& e) {
        if (others++ < 3) std::printf("    non-grammar exception for %s: %s\n", s.c_str(), e.what());
      }
    }
    for (auto& seed : seeds_ebnf) {
      std::string s = mutate(seed);
      try {
        Grammar::from_ebnf(s);
      } catch (const GrammarError&) {
      } catch (const std::exception& e) {
        if (others++ < 3) std::printf("    non-grammar exception for %s: %s\n", s.c_str(), e.what());
      }
    }
    for (auto& seed : seeds_regex) {
      std::string s = mutate(seed);
      try {
        Grammar::from_regex(s);
      } catch (const GrammarError&) {
      } catch (const std::exception& e) {
        if (others++ < 3) std::printf("    non-grammar exception for %s: %s\n", s.c_str(), e.what());
      }
    }
  }
  CHECK(others == 0);
}

// llama.cpp's grammars/json.gbnf (multi-line rules, empty alternative, escapes in classes)
TEST(ebnf_llama_cpp_json_grammar) {
  auto g = Grammar::from_ebnf(R"GBNF(root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-7]?)? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
)GBNF");
  CHECK(eatest::matches(g, R"({"a": [1, 2.5e3, true, null, "x\u00e9\n"], "b": {}})"));
  CHECK(eatest::matches(g, "{\n  \"k\":\"v\"}"));
  CHECK(!eatest::matches(g, R"({"a": 01})"));
  CHECK(!eatest::matches(g, R"([1])"));
  auto v = eatest::synthetic_vocab();
  GrammarMatcher m(std::make_shared<CompiledGrammar>(g, v));
  std::vector<uint32_t> mask(v->mask_words());
  m.fill_next_token_bitmask(mask.data(), mask.size());
  CHECK((mask['{' >> 5] >> ('{' & 31)) & 1);
  CHECK(!((mask['[' >> 5] >> ('[' & 31)) & 1));
}
