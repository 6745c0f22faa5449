// Tool-call envelope builder.
#include <set>

#include "automaton.h"
#include "edgeagent/grammar.h"
#include "ir.h"
#include "regex.h"
#include "schema_internal.h"

namespace edgeagent {
using namespace detail;

namespace {

// Code-point automaton for any text that does not contain `needle` (ASCII), via KMP.
CpNfa text_without(const std::string& needle) {
  const size_t m = needle.size();
  std::vector<size_t> fail(m + 1, 0);
  for (size_t i = 1, k = 0; i < m; ++i) {
    while (k && needle[i] != needle[k]) k = fail[k];
    if (needle[i] == needle[k]) ++k;
    fail[i + 1] = k;
  }
  CpNfa a;
  a.n = uint32_t(m);  // states 0..m-1: length of the matched prefix
  a.start = 0;
  a.final.assign(m, 1);
  for (size_t q = 0; q < m; ++q) {
    std::set<char> used;
    // transitions on needle characters
    for (char c : needle) {
      if (!used.insert(c).second) continue;
      size_t k = q;
      while (k && needle[k] != c) k = fail[k];
      if (needle[k] == c) ++k;
      if (k == m) continue;  // would complete the needle
      a.edges.push_back({uint32_t(q), uint32_t(k), CpSet::single(uint8_t(c))});
    }
    CpSet other = CpSet::all();
    for (char c : used) other = other.minus(CpSet::single(uint8_t(c)));
    a.edges.push_back({uint32_t(q), 0, other});
  }
  return a;
}

}  // namespace

std::shared_ptr<const Grammar> Grammar::from_tools(const std::vector<ToolSpec>& tools, const ToolCallOptions& options,
                                                   std::vector<std::string>* warnings) {
  const GrammarLimits& lim = options.schema.limits;
  IrBuilder ir(lim);
  if (options.format == ToolFormat::JsonObject && options.max_parallel_calls != 1)
    throw GrammarError("from_tools: the json_object format holds exactly one call (max_parallel_calls must be 1)");
  if (options.max_parallel_calls < 1)
    throw GrammarError("from_tools: max_parallel_calls must be >= 1 (got " + std::to_string(options.max_parallel_calls) + ")");
  std::set<std::string> names;
  for (auto& t : tools) {
    if (t.name.empty()) throw GrammarError("from_tools: a tool has an empty name");
    if (!names.insert(t.name).second) throw GrammarError("from_tools: duplicate tool name '" + t.name + "'");
  }
  const bool is_hermes = options.format == ToolFormat::Hermes;
  uint32_t root = ir.add_rule("root");
  auto any_text = [&]() { return ir.star(ir.codepoints(CpSet::all())); };

  if (options.choice == ToolChoice::None) {
    ir.set_body(root, any_text());
    return std::make_shared<Grammar>(lower(ir, root));
  }
  std::vector<const ToolSpec*> sel;
  if (options.choice == ToolChoice::Named) {
    for (auto& t : tools)
      if (t.name == options.tool_name) sel.push_back(&t);
    if (sel.empty()) throw GrammarError("from_tools: named tool '" + options.tool_name + "' is not among the tools");
  } else {
    for (auto& t : tools) sel.push_back(&t);
  }
  if (sel.empty() && options.choice == ToolChoice::Required)
    throw GrammarError("from_tools: tool_choice 'required' with no tools");

  // one gated rule per tool: NAME", "arguments": ARGS
  std::vector<uint32_t> alts;
  for (auto* t : sel) {
    uint32_t r = ir.add_rule("tool:" + t->name);
    Json params = t->parameters;
    if (params.is_null()) {
      params = Json::object();
      params.members().push_back({"type", Json::string("object")});
      params.members().push_back({"additionalProperties", Json::boolean(true)});
    }
    uint32_t args;
    std::string unsat;
    try {
      args = compile_schema_value(ir, params, options.schema, warnings, &unsat);
    } catch (const SchemaError& e) {
      throw SchemaError("tool '" + t->name + "': " + e.what(), e.keyword(), e.pointer());
    }
    // a tool nobody can call is a broken tool, not one to leave out silently
    if (ir.is_fail(args)) throw SchemaError("tool '" + t->name + "': parameters " + unsatisfiable_message(unsat), "", "");
    std::string quoted = json_quote(t->name, false);
    std::string name_part = quoted.substr(1, quoted.size() - 2);
    ir.set_body(r, ir.seq({ir.literal(name_part), ir.literal("\", \"arguments\": "), args}));
    uint32_t gate = ir.add_gate(t->name);
    alts.push_back(ir.ref(r, int32_t(gate)));
  }
  uint32_t body = ir.seq({ir.literal("{\"name\": \""), ir.alt(alts), ir.literal("}")});
  uint32_t call_rule = ir.add_rule("tool_call");
  if (is_hermes) {
    ir.set_body(call_rule, ir.seq({ir.literal("<tool_call>\n"), body, ir.literal("\n</tool_call>")}));
  } else {
    ir.set_body(call_rule, body);
  }
  uint32_t call = ir.ref(call_rule);
  uint32_t n_more = uint32_t(options.max_parallel_calls - 1);
  uint32_t calls;
  if (is_hermes) {
    calls = ir.seq({call, ir.repeat(ir.seq({ir.literal("\n"), call}), 0, n_more)});
  } else if (options.format == ToolFormat::JsonObject) {
    calls = call;
  } else {
    calls = ir.seq({ir.literal("["), call, ir.repeat(ir.seq({ir.literal(", "), call}), 0, n_more), ir.literal("]")});
  }
  if (sel.empty()) calls = ir.fail();
  uint32_t out;
  if (options.choice == ToolChoice::Auto) {
    uint32_t text;
    if (is_hermes) {
      CpNfa t = text_without("<tool_call>");
      text = nfa_to_ir(ir, t, [&](const CpSet& s) { return ir.codepoints(s); });
    } else {
      // free text that does not start the call shape ('[' or '{')
      const char opener = options.format == ToolFormat::JsonObject ? '{' : '[';
      text = ir.opt(ir.seq({ir.codepoints(CpSet::all().minus(CpSet::single(uint8_t(opener)))), any_text()}));
    }
    uint32_t text_rule = ir.add_rule("text");
    ir.set_body(text_rule, text);
    if (is_hermes) out = ir.seq({ir.ref(text_rule), ir.opt(calls)});
    else out = ir.alt({ir.ref(text_rule), calls});
  } else {
    out = calls;
  }
  ir.set_body(root, out);
  auto a = lower(ir, root);
  if (!a->root_productive) throw GrammarError("from_tools: the envelope admits no output (a tool's schema is unsatisfiable)");
  return std::make_shared<Grammar>(std::move(a));
}

}  // namespace edgeagent
