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
