// Vocabulary and its token trie.
#include <algorithm>
#include <numeric>

#include "edgeagent/grammar.h"
#include "mask.h"

namespace edgeagent {

namespace detail {
namespace {
std::unique_ptr<TokenTrie> build_trie(const std::vector<std::string>& toks, const std::vector<TokenKind>& kinds,
                                      const std::vector<uint8_t>& is_eos) {
  std::vector<int32_t> order;
  order.reserve(toks.size());
  for (size_t i = 0; i < toks.size(); ++i)
    if (kinds[i] == TokenKind::Normal && !toks[i].empty() && !is_eos[i] && toks[i].size() < 65000)
      order.push_back(int32_t(i));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (toks[size_t(a)] != toks[size_t(b)]) return toks[size_t(a)] < toks[size_t(b)];
    return a < b;
  });
  auto T = std::make_unique<TokenTrie>();
  T->nodes.push_back({0, 0, 0, 0, 0});
  std::vector<uint32_t> path{0};  // node index per depth
  const std::string* prev = nullptr;
  for (int32_t id : order) {
    const std::string& s = toks[size_t(id)];
    size_t l = 0;
    if (prev) {
      size_t m = std::min(prev->size(), s.size());
      while (l < m && (*prev)[l] == s[l]) ++l;
    }
    // close nodes deeper than l
    while (path.size() > l + 1) {
      T->nodes[path.back()].subtree_end = uint32_t(T->nodes.size());
      path.pop_back();
    }
    for (size_t d = l; d < s.size(); ++d) {
      TrieNode n;
      n.subtree_end = 0;
      n.tok_begin = n.tok_end = uint32_t(T->ids.size());
      n.depth = uint16_t(d + 1);
      n.byte = uint8_t(s[d]);
      T->nodes.push_back(n);
      path.push_back(uint32_t(T->nodes.size() - 1));
    }
    TrieNode& last = T->nodes[path.back()];
    if (last.tok_end != T->ids.size()) {  // first token ending here
      last.tok_begin = uint32_t(T->ids.size());
    }
    T->ids.push_back(id);
    last.tok_end = uint32_t(T->ids.size());
    T->max_depth = std::max<uint32_t>(T->max_depth, uint32_t(s.size()));
    prev = &s;
  }
  while (!path.empty()) {
    T->nodes[path.back()].subtree_end = uint32_t(T->nodes.size());
    path.pop_back();
  }
  return T;
}
}  // namespace
}  // namespace detail

Vocabulary::Vocabulary(std::vector<std::string> token_bytes, std::vector<TokenKind> kinds,
                       std::vector<int32_t> eos_token_ids)
    : tokens_(std::move(token_bytes)), kinds_(std::move(kinds)), eos_(std::move(eos_token_ids)) {
  if (kinds_.size() != tokens_.size())
    throw GrammarError("vocabulary: " + std::to_string(tokens_.size()) + " tokens but " +
                       std::to_string(kinds_.size()) + " kinds");
  if (tokens_.size() > (size_t(1) << 24))
    throw GrammarError("vocabulary: more than 2^24 tokens (" + std::to_string(tokens_.size()) + ")");
  is_eos_.assign(tokens_.size(), 0);
  for (int32_t e : eos_) {
    if (e < 0 || size_t(e) >= tokens_.size())
      throw GrammarError("vocabulary: EOS token id " + std::to_string(e) + " out of range [0, " +
                         std::to_string(tokens_.size()) + ")");
    is_eos_[size_t(e)] = 1;
  }
  trie_ = detail::build_trie(tokens_, kinds_, is_eos_);
  cache_ = std::make_unique<detail::MaskCacheStore>();
}

Vocabulary::~Vocabulary() = default;

bool Vocabulary::is_eos(int32_t id) const { return id >= 0 && size_t(id) < is_eos_.size() && is_eos_[size_t(id)]; }

}  // namespace edgeagent
