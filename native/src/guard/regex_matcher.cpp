#include "regex_matcher.h"

#include <algorithm>
#include <cstring>

#include "edgeagent/grammar.h"
#include "regex.h"
#include "utf8.h"

namespace edgeagent {
namespace guard_detail {

RegexMatcher::RegexMatcher(std::string_view pattern) : pattern_(pattern) {
  GrammarLimits limits;
  limits.max_nodes = 1u << 14;  // a guard pattern is small; refuse pathological ones
  detail::CpNfa nfa = detail::nfa_trim(detail::regex_to_nfa(pattern, /*search=*/true, limits));
  n_ = nfa.n;
  start_ = nfa.start;
  final_ = nfa.final;
  std::vector<detail::CpNfa::Edge> edges = nfa.edges;
  std::stable_sort(edges.begin(), edges.end(), [](const auto& x, const auto& y) { return x.from < y.from; });
  edge_begin_.assign(n_ + 1, 0);
  for (const auto& e : edges) {
    Edge out{e.to, static_cast<uint32_t>(ranges_.size()), static_cast<uint32_t>(e.set.r.size())};
    ranges_.insert(ranges_.end(), e.set.r.begin(), e.set.r.end());
    edges_.push_back(out);
    ++edge_begin_[e.from + 1];
  }
  for (uint32_t s = 0; s < n_; ++s) edge_begin_[s + 1] += edge_begin_[s];
}

bool RegexMatcher::search(std::string_view text, uint64_t* scratch) const {
  if (n_ == 0) return false;  // the pattern matches nothing
  const size_t words = (n_ + 63) / 64;
  uint64_t* cur = scratch;
  uint64_t* nxt = scratch + words;
  std::memset(cur, 0, words * 8);
  cur[start_ / 64] |= uint64_t(1) << (start_ % 64);
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp;
    size_t len = utf8::decode(text.data() + i, text.size() - i, &cp);
    if (len == 0) return false;
    i += len;
    std::memset(nxt, 0, words * 8);
    bool any = false;
    for (size_t w = 0; w < words; ++w) {
      for (uint64_t bits = cur[w]; bits != 0; bits &= bits - 1) {
        uint32_t s = static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits));
        for (uint32_t e = edge_begin_[s]; e < edge_begin_[s + 1]; ++e) {
          const Edge& edge = edges_[e];
          const auto* r = ranges_.data() + edge.first_range;
          for (uint32_t k = 0; k < edge.n_ranges; ++k) {
            if (cp >= r[k].first && cp <= r[k].second) {
              nxt[edge.to / 64] |= uint64_t(1) << (edge.to % 64);
              any = true;
              break;
            }
          }
        }
      }
    }
    if (!any) return false;
    std::swap(cur, nxt);
  }
  for (uint32_t s = 0; s < n_; ++s) {
    if ((cur[s / 64] >> (s % 64)) & 1 && final_[s]) return true;
  }
  return false;
}

}  // namespace guard_detail
}  // namespace edgeagent
