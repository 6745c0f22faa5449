// JSON parser tests.
#include "test_util.h"

using namespace edgeagent;

TEST(json_parses_values) {
  Json j = parse_json(R"({"a": [1, -2.5e3, true, false, null], "b": "x\u00e9\ud83d\ude00\n"})");
  CHECK(j.is_object());
  CHECK(j.find("a")->items().size() == 5);
  CHECK(j.find("a")->items()[1].str() == "-2.5e3");
  CHECK(j.find("b")->str() == "x\xC3\xA9\xF0\x9F\x98\x80\n");
  CHECK(j.dump() == R"({"a": [1, -2.5e3, true, false, null], "b": "x\u00e9\ud83d\ude00\n"})");
}

TEST(json_errors_have_line_and_column) {
  try {
    parse_json("{\n  \"a\": [1, 2,]\n}");
    CHECK(false);
  } catch (const JsonParseError& e) {
    CHECK(e.line == 2);
    CHECK(e.column == 14);
  }
  CHECK_THROWS_AS(parse_json("[01]"), JsonParseError, "leading zero");
  CHECK_THROWS_AS(parse_json("\"\\ud800\""), JsonParseError, "lone high surrogate");
  CHECK_THROWS_AS(parse_json("\"a\x01\""), JsonParseError, "control character");
  CHECK_THROWS_AS(parse_json("\"\xC0\xAF\""), JsonParseError, "invalid UTF-8");
  CHECK_THROWS_AS(parse_json("{} x"), JsonParseError, "trailing");
  CHECK_THROWS_AS(parse_json("[1,]"), JsonParseError, "unexpected character");
  CHECK_THROWS_AS(parse_json("{'a': 1}"), JsonParseError, "expected a string key");
  std::string deep(10000, '[');
  CHECK_THROWS_AS(parse_json(deep), JsonParseError, "nesting deeper");
}

TEST(json_equality_is_schema_equality) {
  CHECK(parse_json("1").equals(parse_json("1.0")));
  CHECK(parse_json("100").equals(parse_json("1e2")));
  CHECK(!parse_json("1").equals(parse_json("true")));
  CHECK(parse_json(R"({"a":1,"b":2})").equals(parse_json(R"({"b":2,"a":1.0})")));
  CHECK(!parse_json("[1,2]").equals(parse_json("[2,1]")));
  CHECK(parse_json("1.0").number_is_integer());
  CHECK(parse_json("1e2").number_is_integer());
  CHECK(!parse_json("1.5").number_is_integer());
  CHECK(parse_json("-0").number_is_integer());
}
