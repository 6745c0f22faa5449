// `matches /re/` in guard policies: the grammar engine's regex dialect (the same as JSON
// Schema "pattern", so a predicate narrows a schema with the very same meaning), run as
// an NFA simulation over code points with caller-provided state sets: no allocation
// per match.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeagent {
namespace guard_detail {

class RegexMatcher {
 public:
  // Search semantics (unanchored unless ^ / $). Throws RegexError (grammar.h).
  explicit RegexMatcher(std::string_view pattern);
  const std::string& pattern() const { return pattern_; }
  size_t n_states() const { return n_; }
  // Words of scratch space search() needs (two state sets).
  size_t scratch_words() const { return 2 * ((n_ + 63) / 64); }
  // True if the pattern matches somewhere in `text` (valid UTF-8; invalid input: false).
  bool search(std::string_view text, uint64_t* scratch) const;

 private:
  struct Edge {
    uint32_t to;
    uint32_t first_range, n_ranges;  // into ranges_
  };
  std::string pattern_;
  uint32_t n_ = 0, start_ = 0;
  std::vector<uint32_t> edge_begin_;  // per state, into edges_ (n_ + 1 entries)
  std::vector<Edge> edges_;
  std::vector<std::pair<uint32_t, uint32_t>> ranges_;
  std::vector<uint8_t> final_;
};

}  // namespace guard_detail
}  // namespace edgeagent
