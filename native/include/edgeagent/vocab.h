// edgeagent — model vocabulary for the grammar engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgeagent {

enum class TokenKind : uint8_t {
  Normal = 0,   // ordinary text token: its bytes may appear in grammar output
  Special = 1,  // control token (<|im_start|>, <tool_call> when marked control...): never allowed inside a grammar
  Unused = 2,   // padding / unused slot: never allowed
};

namespace detail { struct TokenTrie; struct MaskCacheStore; }

// A vocabulary: the exact bytes each token decodes to (byte-fallback tokens such as
// <0x0A> are given as their single raw byte), a kind per token and the end-of-sequence
// token ids. Built once (sorting tokens into a prefix trie) and shared read-only by
// any number of grammars and matchers (std::shared_ptr<const Vocabulary>); thread-safe.
class Vocabulary {
 public:
  // Throws GrammarError when sizes differ, an EOS id is out of range, or the
  // vocabulary is larger than 2^24 tokens.
  Vocabulary(std::vector<std::string> token_bytes, std::vector<TokenKind> kinds,
             std::vector<int32_t> eos_token_ids);
  ~Vocabulary();
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  size_t size() const { return tokens_.size(); }
  const std::string& token_bytes(int32_t id) const { return tokens_[size_t(id)]; }
  TokenKind kind(int32_t id) const { return kinds_[size_t(id)]; }
  const std::vector<int32_t>& eos_token_ids() const { return eos_; }
  bool is_eos(int32_t id) const;
  // Number of uint32_t words a full-vocabulary bitmask needs.
  size_t mask_words() const { return (tokens_.size() + 31) / 32; }

  const detail::TokenTrie& trie() const { return *trie_; }
  // Shared cache of per-state token masks for sub-automata that recur across grammars
  // (JSON string bodies, numbers, whitespace...). Internally synchronized.
  detail::MaskCacheStore& shared_cache() const { return *cache_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<TokenKind> kinds_;
  std::vector<int32_t> eos_;
  std::vector<uint8_t> is_eos_;
  std::unique_ptr<detail::TokenTrie> trie_;
  std::unique_ptr<detail::MaskCacheStore> cache_;
};

}  // namespace edgeagent
