// Timing driver: compile time and per-token mask time on a real vocabulary dump.
//   edgeagent_grammar_tests --bench VOCAB_FILE
// Part 1, argument schemas (../shared/bench/bfcl-dev/simple_python.jsonl); part 2, Hermes
// tool-call envelopes in auto mode over all of a record's tools (multiple.jsonl). BFCL
// schemas are converted (dict->object, float->number, tuple->array, any->{}, "optional"
// dropped); the ground-truth call (first accepted value per parameter) is serialized,
// tokenized greedily (longest token first) and fill_next_token_bitmask is timed before
// each token. Pass 1 runs on a fresh CompiledGrammar (lazy caches being filled; the
// vocabulary-level cache is shared across records, as in a long-running process); pass 2
// repeats with warm caches. Wall time and thread CPU time (immune to preemption on a
// shared machine) are both reported.
//   EA_BENCH_PRECOMPUTE=1  CompiledGrammar(precompute=true): node caches filled at compile
//   EA_BENCH_VERBOSE=1     print slow masks / compiles and skipped records
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <unordered_map>

#include "test_util.h"

using namespace edgeagent;
using Clock = std::chrono::steady_clock;

// Thread CPU time in microseconds: unaffected by preemption on a shared machine.
static double cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

namespace {

Json convert_bfcl(const Json& s) {
  if (!s.is_object()) return s;
  Json o = Json::object();
  for (auto& kv : s.members()) {
    if (kv.first == "optional") continue;
    if (kv.first == "type" && kv.second.is_string()) {
      const std::string& t = kv.second.str();
      if (t == "any") continue;
      std::string nt = t == "dict" ? "object" : t == "float" ? "number" : t == "tuple" ? "array" : t;
      o.members().push_back({"type", Json::string(nt)});
    } else if (kv.first == "properties" && kv.second.is_object()) {
      Json p = Json::object();
      for (auto& pk : kv.second.members()) p.members().push_back({pk.first, convert_bfcl(pk.second)});
      o.members().push_back({"properties", p});
    } else if (kv.first == "items" || kv.first == "additionalProperties") {
      o.members().push_back({kv.first, convert_bfcl(kv.second)});
    } else {
      o.members().push_back(kv);
    }
  }
  return o;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(p * double(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::vector<int32_t> greedy_tokenize(const std::string& s, const std::unordered_map<std::string, int32_t>& ids,
                                     size_t maxlen) {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t L = std::min(maxlen, s.size() - i);
    for (; L > 0; --L) {
      auto it = ids.find(s.substr(i, L));
      if (it != ids.end()) { out.push_back(it->second); break; }
    }
    if (L == 0) return {};
    i += L;
  }
  return out;
}

int bench_file(const Vocabulary& V, std::shared_ptr<const Vocabulary> vp,
               const std::unordered_map<std::string, int32_t>& ids, size_t maxlen, bool envelope) {
  std::string line;
  std::vector<double> compile_us, cold_mask, warm_mask, cold_first, tok_per_seq, compile_cpu, cold_cpu, warm_cpu;
  int records = 0, refused = 0, skipped = 0;
  std::vector<uint32_t> mask(V.mask_words());
  const bool precompute = std::getenv("EA_BENCH_PRECOMPUTE") != nullptr;
  const char* path = envelope ? "/work/shared/bench/bfcl-dev/multiple.jsonl" : "/work/shared/bench/bfcl-dev/simple_python.jsonl";
  std::printf("== %s\n", envelope ? "tool-call envelopes (multiple.jsonl: Hermes format, auto mode, all the record's tools)"
                                   : "argument schemas (simple_python.jsonl)");
  std::ifstream f(path);
  if (precompute) std::printf("(CompiledGrammar precompute=true: all node caches filled at compile time)\n");
  while (std::getline(f, line)) {
    Json r = parse_json(line);
    const Json* gt = r.find("ground_truth");
    if (!gt || gt->items().empty()) continue;
    const std::string& call_name = gt->items()[0].members()[0].first;
    const Json& call = gt->items()[0].members()[0].second;
    const Json* fnp = nullptr;
    std::vector<ToolSpec> tools;
    for (auto& fn : r.find("function")->items()) {
      tools.push_back({fn.find("name")->str(), convert_bfcl(*fn.find("parameters"))});
      if (fn.find("name")->str() == call_name) fnp = &fn;
    }
    if (!fnp) continue;
    Json schema = convert_bfcl(*fnp->find("parameters"));
    // instance in schema property order
    Json inst = Json::object();
    const Json* props = schema.find("properties");
    if (!props) continue;
    for (auto& pk : props->members()) {
      const Json* vals = call.find(pk.first);
      if (!vals || !vals->is_array() || vals->items().empty()) continue;
      const Json& first = vals->items()[0];
      if (first.is_string() && first.str().empty()) continue;
      inst.members().push_back({pk.first, first});
    }
    std::string text = inst.dump();
    if (envelope) text = "<tool_call>\n{\"name\": " + json_quote(call_name, false) + ", \"arguments\": " + text + "}\n</tool_call>";
    auto t1 = Clock::now();
    double c1 = cpu_us();
    std::shared_ptr<const Grammar> g;
    try {
      if (envelope) {
        ToolCallOptions o;
        g = Grammar::from_tools(tools, o);
      } else {
        g = Grammar::from_json_schema(schema);
      }
    } catch (const GrammarError& e) {
      ++refused;
      continue;
    }
    auto cg = std::make_shared<CompiledGrammar>(g, vp, precompute);
    compile_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t1).count());
    compile_cpu.push_back(cpu_us() - c1);
    if (std::getenv("EA_BENCH_VERBOSE") && compile_us.back() > 1000)
      std::printf("  slow compile %.0f us: %s (%zu nodes)\n", compile_us.back(), r.find("id")->str().c_str(), g->num_nodes());
    auto toks = greedy_tokenize(text, ids, maxlen);
    if (toks.empty()) { ++skipped; continue; }
    bool ok = true;
    for (int pass = 0; pass < 2 && ok; ++pass) {
      GrammarMatcher m(cg);
      for (size_t i = 0; i < toks.size(); ++i) {
        double ca = cpu_us();
        auto a = Clock::now();
        m.fill_next_token_bitmask(mask.data(), mask.size());
        double us = std::chrono::duration<double, std::micro>(Clock::now() - a).count();
        double cus = cpu_us() - ca;  // includes the two steady_clock reads (~50 ns)
        bool allowed = (mask[size_t(toks[i]) >> 5] >> (toks[i] & 31)) & 1;
        if (!allowed || !m.accept_token(toks[i])) {
          if (pass == 1 || std::getenv("EA_BENCH_VERBOSE"))
            std::printf("  %s: pass %d token %zu ('%s') %s\n", r.find("id")->str().c_str(), pass + 1, i,
                        V.token_bytes(toks[i]).c_str(), allowed ? "rejected by accept_token" : "not in the mask");
          ok = false;
          break;
        }
        (pass == 0 ? cold_mask : warm_mask).push_back(us);
        (pass == 0 ? cold_cpu : warm_cpu).push_back(cus);
        if (((pass == 1 && us > 200) || (pass == 0 && us > 30)) && std::getenv("EA_BENCH_VERBOSE")) {
          std::string prefix;
          for (size_t k = 0; k <= i; ++k) prefix += V.token_bytes(toks[k]);
          std::printf("  slow %s mask %.0f us (%zu configs) at %s: %s\n", pass ? "warm" : "cold", us, m.num_configs(),
                      r.find("id")->str().c_str(), prefix.c_str());
        }
        if (pass == 0 && i == 0) cold_first.push_back(us);
      }
      if (ok && pass == 0) tok_per_seq.push_back(double(toks.size()));
    }
    if (!ok) ++skipped;
    else ++records;
  }
  std::printf("records: %d measured, %d refused by the compiler, %d skipped (ground truth not in schema)\n", records,
              refused, skipped);
  std::printf("compile (-> Grammar + CompiledGrammar), wall: p50 %.1f us, p99 %.1f us, max %.1f us | thread CPU: p50 %.1f us, p99 %.1f us\n",
              pct(compile_us, 0.5), pct(compile_us, 0.99), pct(compile_us, 1.0), pct(compile_cpu, 0.5), pct(compile_cpu, 0.99));
  std::printf("mask pass 1 (cold: lazy caches being filled, %zu masks), wall: p50 %.2f us, p90 %.2f, p99 %.1f, max %.0f | CPU: p50 %.2f, p99 %.1f\n",
              cold_mask.size(), pct(cold_mask, 0.5), pct(cold_mask, 0.9), pct(cold_mask, 0.99), pct(cold_mask, 1.0),
              pct(cold_cpu, 0.5), pct(cold_cpu, 0.99));
  std::printf("mask pass 2 (warm, %zu masks), wall: p50 %.2f us, p90 %.2f, p99 %.1f, max %.0f | CPU: p50 %.2f, p99 %.1f\n",
              warm_mask.size(), pct(warm_mask, 0.5), pct(warm_mask, 0.9), pct(warm_mask, 0.99), pct(warm_mask, 1.0),
              pct(warm_cpu, 0.5), pct(warm_cpu, 0.99));
  std::printf("tokens per arguments object: p50 %.0f\n", pct(tok_per_seq, 0.5));
  return records;
}

}  // namespace

int run_bench(const std::string& vocab_path) {
  auto t0 = Clock::now();
  auto v = eatest::load_vocab_file(vocab_path);
  if (!v) {
    std::printf("cannot read vocabulary %s\n", vocab_path.c_str());
    return 2;
  }
  double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::printf("vocabulary: %zu tokens, loaded + trie built in %.0f ms\n", v->size(), load_ms);
  std::unordered_map<std::string, int32_t> ids;
  size_t maxlen = 0;
  for (int32_t t = 0; t < int32_t(v->size()); ++t)
    if (v->kind(t) == TokenKind::Normal && !v->token_bytes(t).empty() && !v->is_eos(t)) {
      ids.emplace(v->token_bytes(t), t);
      maxlen = std::max(maxlen, v->token_bytes(t).size());
    }
  int total = 0;
  for (int mode = 0; mode < 2; ++mode) total += bench_file(*v, v, ids, maxlen, mode == 1);
  std::printf("%d passed, %d failed\n", total, 0);
  return 0;
}
