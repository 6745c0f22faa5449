// Model → grammar Vocabulary: the bridge between llama.cpp's view of tokens and the
// grammar engine's (which knows nothing of llama.cpp).
#include "edgeagent/grammar.h"
#include "edgeagent/model.h"
#include "edgeagent/vocab.h"

namespace edgeagent {

std::shared_ptr<const Vocabulary> Model::grammar_vocabulary() const {
    std::call_once(vocab_once_, [this] {
        const size_t n = token_bytes_.size();
        std::vector<TokenKind> kinds(n, TokenKind::Normal);
        std::vector<int32_t> end_tokens;
        for (size_t t = 0; t < n; ++t) {
            if (token_kinds_[t] == TOKEN_CONTROL) kinds[t] = TokenKind::Special;
            else if (token_kinds_[t] == TOKEN_UNUSED || token_bytes_[t].empty()) kinds[t] = TokenKind::Unused;
            if (is_end_of_generation(static_cast<Token>(t))) end_tokens.push_back(static_cast<int32_t>(t));
        }
        grammar_vocab_ = std::make_shared<const Vocabulary>(token_bytes_, std::move(kinds), std::move(end_tokens));
    });
    return grammar_vocab_;
}

}  // namespace edgeagent
