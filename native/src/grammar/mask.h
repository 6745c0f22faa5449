// Token trie and per-node token mask caches (internal).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "automaton.h"
#include "edgeagent/vocab.h"

namespace edgeagent {
namespace detail {

// Prefix trie of the normal, non-empty, non-EOS tokens, stored in preorder. Node 0 is
// the root (depth 0). subtree_end is one past the last node of the subtree.
struct TrieNode {
  uint32_t subtree_end;
  uint32_t tok_begin, tok_end;  // token ids ending exactly here: ids[tok_begin..tok_end)
  uint16_t depth;
  uint8_t byte;
};

struct TokenTrie {
  std::vector<TrieNode> nodes;
  std::vector<int32_t> ids;
  uint32_t max_depth = 0;
};

// Distinct token suffixes in byte order, with the LCP with the previous one, and the
// tokens that end with each: tokens[token_begin[i] .. token_begin[i + 1]).
struct SuffixTable {
  std::vector<std::string> text;
  std::vector<uint16_t> lcp;
  std::vector<uint32_t> token_begin;
  std::vector<int32_t> tokens;
};

// What the tokens do from one automaton node, independent of the stack below it.
struct MaskCache {
  // certainly accepted tokens: bitset over the vocabulary or a sorted id list
  bool bitset = false;
  std::vector<uint32_t> bits;
  std::vector<int32_t> ids;
  size_t accepted = 0;
  // context-dependent tokens, in trie order, with the byte LCP with the previous one
  std::vector<int32_t> uncertain;
  std::vector<uint16_t> unc_lcp;
  // Many uncertain tokens end the node's rule at a fixed point and can then only go on in
  // the caller (a string's closing quote: `",`, `abc"}`): after that point, their fate
  // depends on their suffix alone. Per uncertain token: the suffix's offset (0: no such
  // point) and its index in `suffixes`, so a context cache walks each distinct suffix once.
  std::vector<uint16_t> unc_split;
  std::vector<uint32_t> unc_suffix;
  std::shared_ptr<const SuffixTable> suffixes;
};

// Vocabulary-level cache of MaskCaches keyed by the canonical form of a node's local
// sub-automaton (so recurring structures — string bodies, numbers — are walked once).
struct MaskCacheStore {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const MaskCache>> map;
  size_t bytes = 0;
  size_t max_bytes = size_t(128) << 20;
};

class WalkDfa;  // memoized local-walk automaton (matcher.cpp), reusable across builds of one grammar
std::unique_ptr<WalkDfa> make_walk_dfa(const Automaton& a);

// Walks the trie from node `node` with a local (unknown) stack.
std::shared_ptr<MaskCache> build_mask_cache(const Automaton& a, const Vocabulary& v, uint32_t node, WalkDfa& dfa);

// Resolves prev.uncertain with known return nodes on the stack (see CompiledGrammar).
std::shared_ptr<MaskCache> build_context_cache(const Automaton& a, const Vocabulary& v, uint32_t node,
                                               const std::vector<uint32_t>& rets, bool bottom_real,
                                               const MaskCache& prev, WalkDfa& dfa);

// Canonical key of the local sub-automaton reachable from node (empty when too large).
std::string local_signature(const Automaton& a, uint32_t node, size_t max_nodes);

}  // namespace detail
}  // namespace edgeagent
