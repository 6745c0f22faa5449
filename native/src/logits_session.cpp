#include "edgeagent/logits_session.h"

#include <algorithm>
#include <cmath>

#include "edgeagent/errors.h"
#include "edgeagent/grammar.h"
#include "text_stream.h"

namespace edgeagent {
namespace {
using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

LogitsSession::LogitsSession(std::shared_ptr<Model> vocab, const GenerateParams& params, int32_t prompt_tokens,
                             GrammarMatcher* grammar, int32_t cached_tokens)
    : vocab_(std::move(vocab)),
      params_(params),
      grammar_(grammar),
      sampler_(vocab_ ? vocab_->n_vocab() : 1, params.sampling),
      stream_(std::make_unique<TextStream>(params.stop)),
      t_start_(Clock::now()) {
    if (!vocab_) throw InvalidArgument("a logits session needs a vocabulary");
    if (params_.max_tokens < 1) throw InvalidArgument("max_tokens must be >= 1, got " + std::to_string(params_.max_tokens));
    if (!std::isfinite(params_.end_bias)) throw InvalidArgument("end_bias must be a finite number");
    if (params_.adapter) throw InvalidArgument("LoRA adapters apply to GGUF models only");
    if (prompt_tokens < 1) throw InvalidArgument("the prompt is empty (no tokens)");
    if (grammar_ != nullptr) {
        mask_.resize((static_cast<size_t>(vocab_->n_vocab()) + 31) / 32);
        end_tokens_ = vocab_->grammar_vocabulary()->eos_token_ids();
    }
    result_.finish_reason = "length";
    if (cached_tokens < 0 || cached_tokens >= prompt_tokens)
        throw InvalidArgument("cached_tokens must be in [0, prompt_tokens)");
    result_.timings.prompt_tokens = prompt_tokens;
    result_.timings.cached_tokens = cached_tokens;
    check_generate_params(params_, static_cast<size_t>(prompt_tokens), vocab_->n_vocab());
}

bool LogitsSession::pass_gate(const float* logits, size_t n) {
    const size_t n_vocab = static_cast<size_t>(vocab_->n_vocab());
    if (logits == nullptr || n < n_vocab) {
        throw InvalidArgument("the logits have " + std::to_string(n) + " entries, the vocabulary " +
                              std::to_string(n_vocab));
    }
    result_.gate_token = static_cast<Token>(std::max_element(logits, logits + n_vocab) - logits);
    const auto& go = params_.gate_tokens;
    if (std::find(go.begin(), go.end(), result_.gate_token) != go.end()) return true;
    result_.timings.prefill_ms = ms_between(t_start_, Clock::now());
    stop("gated");
    return false;
}

LogitsSession::~LogitsSession() = default;

Token LogitsSession::step(float* logits, size_t n) {
    if (done_) return -1;
    const size_t n_vocab = static_cast<size_t>(vocab_->n_vocab());
    if (logits == nullptr || n < n_vocab) {
        throw InvalidArgument("the logits have " + std::to_string(n) + " entries, the vocabulary " +
                              std::to_string(n_vocab));
    }
    const Clock::time_point now = Clock::now();
    if (first_) {
        result_.timings.prefill_ms = ms_between(t_start_, now);
    }
    const uint32_t* allowed = nullptr;
    if (grammar_ != nullptr) {
        grammar_->fill_next_token_bitmask(mask_.data(), mask_.size());
        allowed = mask_.data();
        if (params_.end_bias != 0.0f && grammar_->can_terminate())
            for (Token t : end_tokens_) logits[t] += params_.end_bias;
    }
    const Token tok = sampler_.sample(logits, result_.tokens.data(), result_.tokens.size(), allowed);
    if (tok < 0) throw DecodeFailure("the grammar allows no token here (dead end)");
    if (first_) {
        first_ = false;
        t_first_ = Clock::now();
        result_.timings.ttft_ms = ms_between(t_start_, t_first_);
    }
    if (grammar_ != nullptr) {
        if (!grammar_->accept_token(tok)) throw DecodeFailure("the grammar refused a token its own mask allowed");
        if (grammar_->is_terminated()) {
            stop("eos");
            return -1;
        }
    } else if (!params_.ignore_eos && vocab_->is_end_of_generation(tok)) {
        stop("eos");
        return -1;
    }
    result_.tokens.push_back(tok);
    if (stream_->append(vocab_->token_bytes(tok))) {
        result_.stop_sequence = stream_->stop_sequence();
        stop("stop");
        return -1;
    }
    if (ends_in_repetition(result_.tokens, params_.stop_repeats)) {
        stop("repetition");
        return -1;
    }
    if (static_cast<int32_t>(result_.tokens.size()) >= params_.max_tokens) {
        stop("length");
        return -1;
    }
    return tok;
}

std::string LogitsSession::take_text() { return done_ ? stream_->take_rest() : stream_->take_ready(); }

void LogitsSession::stop(const std::string& reason) {
    if (done_) return;
    done_ = true;
    result_.finish_reason = reason;
}

GenerateResult LogitsSession::finish() {
    done_ = true;
    const Clock::time_point now = Clock::now();
    Timings& tm = result_.timings;
    tm.generated_tokens = static_cast<int32_t>(result_.tokens.size());
    if (!first_) tm.decode_ms = ms_between(t_first_, now);
    result_.text = stream_->text();
    tm.total_ms = ms_between(t_start_, now);
    return result_;
}

}  // namespace edgeagent
