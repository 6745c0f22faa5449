// Regex subset -> code-point NFA (internal). Used by Grammar::from_regex, JSON Schema
// "pattern" (search semantics) and "format".
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "ir.h"

namespace edgeagent {
namespace detail {

// Epsilon-free NFA over code-point sets.
struct CpNfa {
  struct Edge {
    uint32_t from, to;
    CpSet set;
  };
  uint32_t n = 0;
  uint32_t start = 0;
  std::vector<Edge> edges;
  std::vector<uint8_t> final;
};

// Parses the regex. search=true: JSON Schema semantics (unanchored unless ^/$).
// search=false: the whole input must match (^/$ optional). Throws RegexError.
CpNfa regex_to_nfa(std::string_view pattern, bool search, const GrammarLimits& limits);

// Intersection of two NFAs. Throws GrammarLimitError beyond limits.max_nodes states.
CpNfa nfa_intersect(const CpNfa& a, const CpNfa& b, const GrammarLimits& limits);
// Restricts the NFA to strings of min..max code points (max == kInf: unbounded).
CpNfa nfa_with_length(const CpNfa& a, uint32_t min, uint32_t max, const GrammarLimits& limits);
// Removes states that are unreachable or cannot reach a final state.
CpNfa nfa_trim(const CpNfa& a);

// Embeds the NFA into the IR; each edge's code-point set is turned into an expression by
// `label` (raw UTF-8 for plain regexes, JSON-escaped characters inside JSON strings).
uint32_t nfa_to_ir(IrBuilder& ir, const CpNfa& nfa, const std::function<uint32_t(const CpSet&)>& label);

// The regex of a supported "format" value, or nullptr.
const char* format_regex(std::string_view format);

}  // namespace detail
}  // namespace edgeagent
