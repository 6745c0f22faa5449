// Matcher against vocabularies: masks agree with accept_token, EOS/special handling,
// rollback, jump-forward, tool gates, random constrained generation.
#include <random>
#include <thread>

#include "test_util.h"

using namespace edgeagent;

namespace {

// Every token: mask bit == accept_token (then rollback). Returns the number of mismatches.
int mask_mismatches(GrammarMatcher& m, const Vocabulary& v, size_t extra_words = 3, int max_report = 5) {
  std::vector<uint32_t> mask(v.mask_words() + extra_words, 0xFFFFFFFFu);
  m.fill_next_token_bitmask(mask.data(), mask.size());
  int bad = 0;
  for (int32_t t = 0; t < int32_t(v.size()); ++t) {
    bool bit = (mask[size_t(t) >> 5] >> (t & 31)) & 1;
    bool ok = m.accept_token(t);
    if (ok) m.rollback(1);
    if (bit != ok) {
      if (bad < max_report)
        std::printf("    token %d '%s': mask=%d accept=%d\n", t, v.token_bytes(t).c_str(), int(bit), int(ok));
      ++bad;
    }
  }
  for (size_t b = v.size(); b < mask.size() * 32; ++b)
    if ((mask[b >> 5] >> (b & 31)) & 1) {
      ++bad;
      std::printf("    bit %zu beyond the vocabulary is set\n", b);
      break;
    }
  return bad;
}

// Random walk through the mask; checks mask consistency at every step when `check`.
// Returns the produced bytes; *ended = EOS accepted.
std::string random_walk(GrammarMatcher& m, const Vocabulary& v, std::mt19937& rng, int max_steps, bool check,
                        bool* ended, int* mismatches) {
  std::string out;
  *ended = false;
  std::vector<uint32_t> mask(v.mask_words());
  for (int step = 0; step < max_steps; ++step) {
    if (check) *mismatches += mask_mismatches(m, v, 1, 3);
    m.fill_next_token_bitmask(mask.data(), mask.size());
    std::vector<int32_t> allowed;
    bool eos_ok = false;
    for (int32_t t = 0; t < int32_t(v.size()); ++t)
      if ((mask[size_t(t) >> 5] >> (t & 31)) & 1) {
        if (v.is_eos(t)) eos_ok = true;
        else allowed.push_back(t);
      }
    if (eos_ok && (allowed.empty() || step > max_steps / 2 || rng() % 4 == 0)) {
      CHECK(m.accept_token(v.eos_token_ids()[0]));
      *ended = true;
      return out;
    }
    if (allowed.empty()) {
      std::printf("    dead end after '%s'\n", out.c_str());
      ++*mismatches;
      return out;
    }
    // prefer closing-ish tokens late to finish
    int32_t t = allowed[rng() % allowed.size()];
    if (!m.accept_token(t)) {
      std::printf("    allowed token %d rejected\n", t);
      ++*mismatches;
      return out;
    }
    out += v.token_bytes(t);
  }
  return out;
}

const char* kToolSchema = R"({
  "type": "object",
  "properties": {
    "city": {"type": "string", "maxLength": 12},
    "unit": {"enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "detail": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "maxItems": 3}
  },
  "required": ["city"]
})";

}  // namespace

TEST(matcher_mask_matches_accept_on_synthetic_vocab) {
  auto v = eatest::synthetic_vocab();
  std::vector<ToolSpec> tools = {
      {"get_weather", parse_json(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
      {"get_time", parse_json(R"({"type":"object","properties":{"tz":{"enum":["utc","cet"]}}})")}};
  ToolCallOptions auto_opts;
  auto_opts.max_parallel_calls = 2;
  std::vector<std::shared_ptr<const Grammar>> gs = {
      Grammar::from_json_schema(kToolSchema),
      Grammar::any_json(Whitespace::Flexible),
      Grammar::any_json(Whitespace::Compact),
      Grammar::from_json_schema(kToolSchema, JsonSchemaOptions::validation()),
      Grammar::from_json_schema(R"({"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer","minimum":-5,"maximum":50},
          "k":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":2}},"required":["v"]}},"$ref":"#/$defs/n"})"),
      Grammar::from_json_schema(R"({"anyOf":[{"type":"string","pattern":"^a[bc]*\\d$"},{"type":"number","minimum":0},
          {"type":"string","format":"date"},{"const":"\u00e9\""}]})"),
      Grammar::from_tools(tools, auto_opts),
      Grammar::from_ebnf(R"(root ::= "<tool_call>\n" obj "\n</tool_call>"
obj ::= "{" ("\"a\": " [0-9]+ | "\"name\": \"" [a-z_]* "\"") "}")"),
      Grammar::from_regex("(ab|abc)+[\xE2\x82\xAC\xC3\xA9]?x"),
  };
  std::mt19937 rng(7);
  for (auto& g : gs) {
    auto cg = std::make_shared<CompiledGrammar>(g, v);
    for (int walk = 0; walk < 8; ++walk) {
      GrammarMatcher m(cg);
      if (!g->tool_names().empty() && walk % 2) m.set_tool_enabled("get_weather", false);
      bool ended;
      int mism = 0;
      random_walk(m, *v, rng, 40, true, &ended, &mism);
      CHECK(mism == 0);
    }
  }
}

TEST(matcher_random_generation_is_valid_json) {
  auto v = eatest::synthetic_vocab();
  auto g = Grammar::from_json_schema(kToolSchema);
  auto cg = std::make_shared<CompiledGrammar>(g, v);
  auto check = Grammar::from_json_schema(kToolSchema, JsonSchemaOptions::validation());
  std::mt19937 rng(11);
  int finished = 0;
  for (int i = 0; i < 200; ++i) {
    GrammarMatcher m(cg);
    bool ended;
    int mism = 0;
    std::string out = random_walk(m, *v, rng, 400, false, &ended, &mism);
    CHECK(mism == 0);
    if (!ended) continue;
    ++finished;
    Json j = parse_json(out);  // throws if not JSON
    CHECK(j.is_object());
    CHECK(j.find("city") != nullptr);
    CHECK(eatest::matches(check, out));
    if (const Json* d = j.find("days")) {
      long long x = std::stoll(d->str());
      CHECK(x >= 1 && x <= 14);
    }
  }
  CHECK(finished > 20);
}

TEST(matcher_must_terminate_only_where_nothing_but_the_end_follows) {
  auto v = eatest::synthetic_vocab();
  GrammarMatcher m(std::make_shared<CompiledGrammar>(Grammar::from_regex("ab?"), v));
  CHECK(!m.must_terminate());
  CHECK(m.accept_token('a'));
  CHECK(m.can_terminate());
  CHECK(!m.must_terminate());  // may end, or write b
  CHECK(m.accept_token('b'));
  CHECK(m.must_terminate());
  CHECK(m.accept_token(v->eos_token_ids()[0]));
  CHECK(!m.must_terminate());  // ended already
}

TEST(matcher_special_eos_and_wide_masks) {
  auto v = eatest::synthetic_vocab();
  auto cg = std::make_shared<CompiledGrammar>(Grammar::from_regex("a\"b"), v);
  GrammarMatcher m(cg);
  int32_t special_quote = int32_t(v->size() - 1), im_end = int32_t(v->size() - 4), eos = v->eos_token_ids()[0];
  CHECK(m.accept_token('a'));
  std::vector<uint32_t> mask(v->mask_words() + 10);
  m.fill_next_token_bitmask(mask.data(), mask.size());
  CHECK((mask['"' >> 5] >> ('"' & 31)) & 1);
  CHECK(!((mask[size_t(special_quote) >> 5] >> (special_quote & 31)) & 1));
  CHECK(!m.accept_token(special_quote));
  CHECK(!m.accept_token(im_end));
  CHECK(!m.accept_token(eos));  // cannot end yet
  CHECK(!m.can_terminate());
  CHECK(!m.must_terminate());
  CHECK(m.accept_token('"'));
  CHECK(m.accept_token('b'));
  CHECK(m.can_terminate());
  CHECK(m.must_terminate());  // the regex is complete: only EOS may follow
  CHECK(mask_mismatches(m, *v, 10) == 0);
  CHECK(m.accept_token(eos));
  CHECK(m.is_terminated());
  m.fill_next_token_bitmask(mask.data(), mask.size());
  bool any = false;
  for (auto w : mask) any |= w != 0;
  CHECK(!any);
  CHECK(!m.accept_token('b'));
  CHECK_THROWS_AS(m.fill_next_token_bitmask(mask.data(), 2), GrammarError, "words given");
  CHECK(!m.accept_token(-1));
  CHECK(!m.accept_token(int32_t(v->size())));
}

TEST(matcher_utf8_split_across_tokens) {
  auto v = eatest::synthetic_vocab();
  // "€" = E2 82 AC; the vocab has tokens "\xE2\x82" and "\xAC"
  auto cg = std::make_shared<CompiledGrammar>(Grammar::from_json_schema(R"({"type":"string","maxLength":2})"), v);
  GrammarMatcher m(cg);
  CHECK(m.accept_bytes("\""));
  int32_t e282 = -1, ac = -1;
  for (int32_t t = 256; t < int32_t(v->size()); ++t) {
    if (v->token_bytes(t) == "\xE2\x82") e282 = t;
    if (v->token_bytes(t) == "\xAC") ac = t;
  }
  CHECK(e282 > 0 && ac > 0);
  CHECK(m.accept_token(e282));
  CHECK(mask_mismatches(m, *v) == 0);
  CHECK(!m.accept_token('a'));  // would be invalid UTF-8
  CHECK(m.accept_token(ac));
  CHECK(m.accept_token(0xC3));
  CHECK(m.accept_token(0xA9));
  CHECK(!m.accept_token('x'));  // maxLength 2 code points
  CHECK(m.accept_token('"'));
  CHECK(m.can_terminate());
  // invalid UTF-8 bytes are never allowed in strings
  GrammarMatcher m2(cg);
  CHECK(m2.accept_bytes("\""));
  CHECK(!m2.accept_token(0xC0));
  CHECK(!m2.accept_token(0xFF));
  CHECK(!m2.accept_token(0x01));  // control character
}

TEST(matcher_rollback_and_reset) {
  auto v = eatest::synthetic_vocab();
  auto cg = std::make_shared<CompiledGrammar>(Grammar::from_json_schema(kToolSchema), v);
  GrammarMatcher m(cg);
  std::vector<uint32_t> m0(v->mask_words()), m1(v->mask_words());
  m.fill_next_token_bitmask(m0.data(), m0.size());
  CHECK(m.accept_bytes("{\"city\": \"Pa"));
  CHECK(m.accept_token('r'));
  CHECK(m.history_size() == 2);
  m.rollback(2);
  m.fill_next_token_bitmask(m1.data(), m1.size());
  CHECK(m0 == m1);
  CHECK_THROWS_AS(m.rollback(1), GrammarError, "history");
  CHECK(m.accept_bytes("{\"city\": \"x\"}"));
  CHECK(m.can_terminate());
  m.reset();
  CHECK(m.history_size() == 0);
  m.fill_next_token_bitmask(m1.data(), m1.size());
  CHECK(m0 == m1);
  // bounded history
  GrammarMatcher b(cg, 2);
  for (char c : std::string("{\"city\": \"abcdef")) CHECK(b.accept_bytes(std::string(1, c)));
  b.rollback(2);
  CHECK(b.accept_bytes("ef\"}"));
  CHECK(b.can_terminate());
}

TEST(matcher_jump_forward) {
  auto g = Grammar::from_json_schema(R"({"type":"object","properties":{"location":{"type":"string"},
    "unit":{"enum":["celsius","kelvin"]}},"required":["location","unit"]})");
  GrammarMatcher m(g);
  CHECK(m.find_jump_forward_bytes() == "{\"location\": \"");
  CHECK(m.accept_bytes("{\"location\": \"Paris\""));
  CHECK(m.find_jump_forward_bytes() == ", \"unit\": \"");
  CHECK(m.accept_bytes(", \"unit\": \"c"));
  CHECK(m.find_jump_forward_bytes() == "elsius\"}");
  CHECK(m.accept_bytes("elsius\"}"));
  CHECK(m.find_jump_forward_bytes().empty());
  CHECK(m.can_terminate());
}

TEST(tool_envelope_hermes_and_gates) {
  auto v = eatest::synthetic_vocab();
  std::vector<ToolSpec> tools = {
      {"get_weather", parse_json(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
      {"get_time", parse_json(R"({"type":"object","properties":{"tz":{"type":"string"}}})")},
  };
  ToolCallOptions o;
  o.choice = ToolChoice::Required;
  o.max_parallel_calls = 2;
  auto g = Grammar::from_tools(tools, o);
  CHECK(g->tool_names().size() == 2);
  const std::string call1 = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
  const std::string call2 = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
  CHECK(eatest::matches(g, call1));
  CHECK(eatest::matches(g, call1 + "\n" + call2));
  CHECK(!eatest::matches(g, call1 + "\n" + call2 + "\n" + call1));  // max 2 calls
  CHECK(!eatest::matches(g, "hello"));
  CHECK(!eatest::matches(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>"));
  auto cg = std::make_shared<CompiledGrammar>(g, v);
  GrammarMatcher m(cg);
  CHECK(m.accept_bytes("<tool_call>\n{\"name\": \""));
  // gates apply to names not yet started: switching at the name's opening quote is fine
  m.set_tool_enabled("get_weather", false);
  CHECK(!m.tool_enabled("get_weather"));
  CHECK(mask_mismatches(m, *v) == 0);
  CHECK(m.accept_bytes("get_"));
  CHECK(mask_mismatches(m, *v) == 0);
  CHECK(!m.accept_bytes("weather"));
  CHECK(m.accept_token('t'));
  m.rollback(2);
  m.set_tool_enabled("get_weather", true);
  CHECK(mask_mismatches(m, *v) == 0);
  CHECK(m.accept_bytes("get_"));
  CHECK(m.accept_bytes("weather\", \"arguments\": {\"city\": \"x\"}}\n</tool_call>"));
  CHECK(m.can_terminate());
  CHECK_THROWS_AS(m.set_tool_enabled("nope", false), GrammarError, "unknown tool 'nope'");
  // with one tool left, the whole name is forced (jump-forward)
  GrammarMatcher j(g);
  j.set_tool_enabled("get_weather", false);
  CHECK(j.find_jump_forward_bytes() == "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {");
  // all tools off: no call can start its name
  GrammarMatcher m2(cg);
  m2.set_tool_enabled("get_weather", false);
  m2.set_tool_enabled("get_time", false);
  CHECK(m2.accept_bytes("<tool_call>\n{\"name\": \""));
  CHECK(mask_mismatches(m2, *v) == 0);
  CHECK(!m2.accept_bytes("g"));
}

TEST(tool_envelope_modes) {
  std::vector<ToolSpec> tools = {{"f", parse_json(R"({"type":"object","properties":{"x":{"type":"integer"}}})")},
                                 {"g", Json()}};
  const std::string cf = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>";
  ToolCallOptions o;
  o.choice = ToolChoice::Auto;
  auto a = Grammar::from_tools(tools, o);
  CHECK(eatest::matches(a, "Just text, no call."));
  CHECK(eatest::matches(a, "Let me call.\n" + cf));
  CHECK(eatest::matches(a, cf));
  CHECK(!eatest::matches(a, "text <tool_call> broken"));
  CHECK(!eatest::matches(a, cf + "\n" + cf));  // parallel 1
  o.choice = ToolChoice::None;
  auto n = Grammar::from_tools(tools, o);
  CHECK(eatest::matches(n, "anything <tool_call> goes"));
  o.choice = ToolChoice::Named;
  o.tool_name = "g";
  auto named = Grammar::from_tools(tools, o);
  CHECK(eatest::matches(named, "<tool_call>\n{\"name\": \"g\", \"arguments\": {\"any\": [1, {}]}}\n</tool_call>"));
  CHECK(!eatest::matches(named, cf));
  o.tool_name = "zzz";
  CHECK_THROWS_AS(Grammar::from_tools(tools, o), GrammarError, "zzz");
  // generic JSON array format
  o.choice = ToolChoice::Required;
  o.format = ToolFormat::JsonArray;
  o.max_parallel_calls = 3;
  auto arr = Grammar::from_tools(tools, o);
  CHECK(eatest::matches(arr, R"([{"name": "f", "arguments": {"x": 2}}, {"name": "g", "arguments": {}}])"));
  CHECK(!eatest::matches(arr, R"([])"));
  CHECK(!eatest::matches(arr, R"([{"name": "f", "arguments": {"y": 2}}])"));  // additionalProperties default false
  o.choice = ToolChoice::Auto;
  auto arr_auto = Grammar::from_tools(tools, o);
  CHECK(eatest::matches(arr_auto, "plain answer"));
  CHECK(!eatest::matches(arr_auto, "[not a call"));
}

TEST(real_vocab_masks) {
  if (eatest::g_vocab_path.empty()) return;  // needs --vocab
  auto v = eatest::load_vocab_file(eatest::g_vocab_path);
  CHECK(v != nullptr);
  if (!v) return;
  std::printf("    real vocabulary: %zu tokens\n", v->size());
  auto cg = std::make_shared<CompiledGrammar>(Grammar::from_json_schema(kToolSchema), v);
  std::mt19937 rng(3);
  int mism = 0;
  std::vector<ToolSpec> tools = {
      {"get_weather", parse_json(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
      {"get_time", parse_json(R"({"type":"object","properties":{"tz":{"enum":["utc","cet"]}}})")}};
  std::vector<std::shared_ptr<const Grammar>> gs = {
      Grammar::from_json_schema(kToolSchema), Grammar::any_json(Whitespace::Flexible),
      Grammar::from_json_schema(kToolSchema, JsonSchemaOptions::validation()), Grammar::from_tools(tools)};
  for (auto& g : gs) {
    auto c = std::make_shared<CompiledGrammar>(g, v);
    for (int walk = 0; walk < 2; ++walk) {
      GrammarMatcher m(c);
      bool ended;
      random_walk(m, *v, rng, 10, true, &ended, &mism);
    }
  }
  // a whole Hermes call, token by token, with brute-force checks at every step
  {
    auto c = std::make_shared<CompiledGrammar>(gs[3], v);
    GrammarMatcher m(c);
    std::string text = "Sure.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris \u00e9\"}}\n</tool_call>";
    size_t i = 0;
    while (i < text.size()) {
      mism += mask_mismatches(m, *v, 1, 3);
      int32_t best = -1;
      size_t best_len = 0;
      for (int32_t t = 0; t < int32_t(v->size()); ++t) {
        const std::string& tb = v->token_bytes(t);
        if (v->kind(t) == TokenKind::Normal && tb.size() > best_len && text.compare(i, tb.size(), tb) == 0) {
          best = t;
          best_len = tb.size();
        }
      }
      CHECK(best >= 0 && m.accept_token(best));
      if (best < 0) break;
      i += best_len;
    }
    CHECK(m.can_terminate());
  }
  CHECK(mism == 0);
  // generation to the end stays valid
  auto check = Grammar::from_json_schema(kToolSchema, JsonSchemaOptions::validation());
  int finished = 0;
  for (int i = 0; i < 30; ++i) {
    GrammarMatcher m(cg);
    bool ended;
    std::string out = random_walk(m, *v, rng, 300, false, &ended, &mism);
    if (!ended) continue;
    ++finished;
    CHECK(eatest::matches(check, out));
  }
  CHECK(mism == 0);
  std::printf("    %d/30 random generations finished\n", finished);
}

TEST(compiled_grammar_shared_across_threads) {
  auto v = eatest::synthetic_vocab();
  auto cg = std::make_shared<CompiledGrammar>(Grammar::from_json_schema(kToolSchema), v);
  std::vector<std::string> outs(4);
  std::vector<int> bad(4, 0);
  std::vector<std::thread> th;
  for (int t = 0; t < 4; ++t)
    th.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int i = 0; i < 30; ++i) {
        GrammarMatcher m(cg);
        bool ended;
        int mism = 0;
        std::string out = random_walk(m, *v, rng, 200, false, &ended, &mism);
        bad[size_t(t)] += mism;
        if (ended) {
          try {
            parse_json(out);
          } catch (...) {
            ++bad[size_t(t)];
          }
        }
      }
    });
  for (auto& x : th) x.join();
  for (int b : bad) CHECK(b == 0);
}

TEST(matcher_state_limit_is_an_error_not_a_hang) {
  GrammarLimits lim;
  lim.max_matcher_configs = 200;
  // highly ambiguous: every split of the input is a parse
  auto g = Grammar::from_ebnf(R"(root ::= x*
x ::= "a" | "a" x "b"? | "a" x x)", "root", lim);
  GrammarMatcher m(g);
  bool threw = false;
  try {
    for (int i = 0; i < 200; ++i) m.accept_bytes("a");
  } catch (const GrammarLimitError& e) {
    threw = std::string(e.what()).find("configurations") != std::string::npos;
  }
  CHECK(threw);
}
