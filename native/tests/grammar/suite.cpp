// JSON-Schema-Test-Suite driver: for every schema the compiler accepts (validation
// options: flexible whitespace, any property order, additionalProperties default true),
// each instance serialized like Python json.dumps must be accepted iff it is valid.
// Schemas the compiler refuses are listed by the keyword named in the error.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "test_util.h"

using namespace edgeagent;

namespace {

struct FileStats {
  int schemas = 0, compiled = 0, cases = 0, passed = 0, refused_cases = 0;
  std::map<std::string, int> refused;  // keyword -> schema count
};

FileStats run_file(const std::string& path, bool verbose, int* disagreements, bool assert_format = false) {
  FileStats st;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  Json doc = parse_json(ss.str());
  for (auto& group : doc.items()) {
    ++st.schemas;
    const Json* schema = group.find("schema");
    const Json* tests = group.find("tests");
    const Json* desc = group.find("description");
    std::shared_ptr<const Grammar> g;
    JsonSchemaOptions opt = JsonSchemaOptions::validation();
    opt.allow_unsatisfiable = true;
    opt.assert_format = assert_format;
    try {
      g = Grammar::from_json_schema(*schema, opt);
    } catch (const SchemaError& e) {
      std::string kw = e.keyword().empty() ? std::string("(") + e.what() + ")" : e.keyword();
      ++st.refused[kw];
      st.refused_cases += int(tests->items().size());
      if (verbose) std::printf("  refused [%s]: %s\n", desc->str().c_str(), e.what());
      continue;
    } catch (const GrammarError& e) {
      ++st.refused[std::string("(") + e.what() + ")"];
      st.refused_cases += int(tests->items().size());
      if (verbose) std::printf("  refused [%s]: %s\n", desc->str().c_str(), e.what());
      continue;
    }
    ++st.compiled;
    for (auto& t : tests->items()) {
      ++st.cases;
      std::string inst = t.find("data")->dump();
      bool want = t.find("valid")->as_bool();
      bool got = false;
      try {
        GrammarMatcher m(g);
        got = m.accept_bytes(inst) && m.can_terminate();
      } catch (const GrammarError& e) {
        std::printf("  matcher error on %s: %s\n", inst.c_str(), e.what());
      }
      if (got == want) {
        ++st.passed;
      } else {
        ++*disagreements;
        if (verbose || !assert_format) std::printf("  DISAGREE %s | %s | %s: instance %s expected %s\n", path.c_str(), desc->str().c_str(),
                    t.find("description")->str().c_str(), inst.c_str(), want ? "valid" : "invalid");
      }
    }
  }
  return st;
}

}  // namespace

int run_suite(const std::string& dir, bool verbose) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::string> optional;
  if (fs::exists(fs::path(dir) / "optional" / "format"))
    for (auto& e : fs::directory_iterator(fs::path(dir) / "optional" / "format"))
      if (e.path().extension() == ".json") optional.push_back(e.path().string());
  std::sort(optional.begin(), optional.end());
  int dis = 0, tot_cases = 0, tot_pass = 0, tot_refused = 0, tot_schemas = 0, tot_compiled = 0;
  std::printf("%-28s %9s %15s  %s\n", "file", "schemas", "cases passed", "refused keywords (schemas)");
  for (auto& p : files) {
    FileStats st = run_file(p, verbose, &dis);
    std::string kws;
    for (auto& kv : st.refused) kws += (kws.empty() ? "" : ", ") + kv.first + "(" + std::to_string(kv.second) + ")";
    std::printf("%-28s %4d/%-4d %7d/%-7d  %s\n", fs::path(p).filename().c_str(), st.compiled, st.schemas, st.passed,
                st.cases, kws.c_str());
    tot_cases += st.cases;
    tot_pass += st.passed;
    tot_refused += st.refused_cases;
    tot_schemas += st.schemas;
    tot_compiled += st.compiled;
  }
  std::printf("TOTAL: %d/%d schemas compiled, %d/%d supported cases agree (%.2f%%), %d cases in refused schemas\n",
              tot_compiled, tot_schemas, tot_pass, tot_cases, tot_cases ? 100.0 * tot_pass / tot_cases : 0.0,
              tot_refused);
  if (!optional.empty()) {
    int odis = 0;
    std::printf("optional/format (format assertion, informational, not gating):\n");
    for (auto& p : optional) {
      FileStats st = run_file(p, false, &odis, true);
      std::printf("  %-26s %4d/%-4d %7d/%-7d\n", fs::path(p).filename().c_str(), st.compiled, st.schemas, st.passed,
                  st.cases);
    }
  }
  std::printf("%d passed, %d failed\n", tot_pass, tot_cases - tot_pass);
  return dis ? 1 : 0;
}
