#include "edgeagent/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "edgeagent/errors.h"

namespace edgeagent {

void validate(const SamplingParams& p) {
    if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
        throw InvalidArgument("temperature must be a finite number >= 0, got " + std::to_string(p.temperature));
    if (p.top_k < 0) throw InvalidArgument("top_k must be >= 0, got " + std::to_string(p.top_k));
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
        throw InvalidArgument("top_p must be in (0, 1], got " + std::to_string(p.top_p));
    if (!(p.min_p >= 0.0f && p.min_p < 1.0f))
        throw InvalidArgument("min_p must be in [0, 1), got " + std::to_string(p.min_p));
    if (!(p.repeat_penalty >= 1.0f) || !std::isfinite(p.repeat_penalty))
        throw InvalidArgument("repeat_penalty must be >= 1, got " + std::to_string(p.repeat_penalty));
    if (p.repeat_last_n < 0) throw InvalidArgument("repeat_last_n must be >= 0, got " + std::to_string(p.repeat_last_n));
}

Sampler::Sampler(int32_t n_vocab, const SamplingParams& params)
    : n_vocab_(n_vocab), params_(params), rng_(params.seed) {
    validate(params_);
    candidates_.reserve(static_cast<size_t>(n_vocab));
}

// Calls f(token) for every set bit of the mask below n_vocab_. Under a grammar most
// words are zero, so this skips 32 tokens at a time.
template <typename F>
void Sampler::for_each_allowed(const uint32_t* allowed, F&& f) const {
    const int32_t n_words = (n_vocab_ + 31) / 32;
    for (int32_t w = 0; w < n_words; ++w) {
        uint32_t bits = allowed[w];
        while (bits != 0) {
            const int32_t t = w * 32 + __builtin_ctz(bits);
            bits &= bits - 1;
            if (t < n_vocab_) f(t);
        }
    }
}

int32_t Sampler::sample(float* logits, const int32_t* recent, size_t n_recent, const uint32_t* allowed) {
    // Repeat penalty (CTRL-style): divide positive logits, multiply negative ones.
    if (params_.repeat_penalty > 1.0f && recent != nullptr) {
        const size_t n = std::min(n_recent, static_cast<size_t>(params_.repeat_last_n));
        for (size_t i = n_recent - n; i < n_recent; ++i) {
            const int32_t t = recent[i];
            if (t < 0 || t >= n_vocab_) continue;
            float& l = logits[t];
            l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
        }
    }

    if (params_.temperature <= 0.0f && allowed == nullptr) {  // greedy, unconstrained: a plain scan
        return static_cast<int32_t>(std::max_element(logits, logits + n_vocab_) - logits);
    }
    if (params_.temperature <= 0.0f) {  // greedy under a mask: visit only the allowed tokens
        int32_t best = -1;
        float best_logit = -std::numeric_limits<float>::infinity();
        for_each_allowed(allowed, [&](int32_t t) {
            if (best < 0 || logits[t] > best_logit) {
                best_logit = logits[t];
                best = t;
            }
        });
        return best;
    }

    candidates_.clear();
    if (allowed == nullptr) {
        for (int32_t t = 0; t < n_vocab_; ++t)
            if (logits[t] > -std::numeric_limits<float>::infinity()) candidates_.emplace_back(logits[t], t);
    } else {
        for_each_allowed(allowed, [&](int32_t t) {
            if (logits[t] > -std::numeric_limits<float>::infinity()) candidates_.emplace_back(logits[t], t);
        });
    }
    if (candidates_.empty()) return -1;
    auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first; };

    // top-k, then sort what is left: top-p needs the tokens in order. Without top-k we
    // sort only a head big enough to hold the nucleus (grown when it is not).
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < candidates_.size()) {
        std::nth_element(candidates_.begin(), candidates_.begin() + params_.top_k, candidates_.end(), by_logit);
        candidates_.resize(static_cast<size_t>(params_.top_k));
    }
    const size_t keep = candidates_.size();
    size_t sorted = std::min(keep, static_cast<size_t>(256));
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<long>(sorted),
                      candidates_.end(), by_logit);

    // Softmax with temperature, over all kept candidates (max is the first).
    const float inv_t = 1.0f / params_.temperature;
    const float max_l = candidates_[0].first;
    double total = 0;
    for (size_t i = 0; i < keep; ++i) {
        float p = std::exp((candidates_[i].first - max_l) * inv_t);
        candidates_[i].first = p;
        total += p;
    }
    // min-p: relative to the most likely token (which has weight 1 after the shift).
    const float min_w = params_.min_p;

    // top-p over the sorted head; grow the sorted head when the nucleus is larger.
    const double target = params_.top_p * total;
    double mass = 0;
    size_t cut = keep;
    if (params_.top_p < 1.0f) cut = 0;
    while (cut < keep) {
        while (cut < sorted) {
            mass += candidates_[cut].first;
            ++cut;
            if (mass >= target) break;
        }
        if (mass >= target || sorted == keep) break;  // nucleus found, or everything sorted
        size_t grow = std::min(keep, sorted * 4);
        std::partial_sort(candidates_.begin() + static_cast<long>(sorted),
                          candidates_.begin() + static_cast<long>(grow),
                          candidates_.begin() + static_cast<long>(keep), by_logit);  // weights sort like logits
        sorted = grow;
    }
    size_t n_final = 0;
    double final_total = 0;
    for (size_t i = 0; i < cut; ++i) {
        if (candidates_[i].first < min_w) continue;
        candidates_[n_final++] = candidates_[i];
        final_total += candidates_[i].first;
    }
    if (n_final == 0) return candidates_[0].second;

    std::uniform_real_distribution<double> uni(0.0, final_total);
    double r = uni(rng_);
    for (size_t i = 0; i < n_final; ++i) {
        r -= candidates_[i].first;
        if (r <= 0) return candidates_[i].second;
    }
    return candidates_[n_final - 1].second;
}

bool ends_in_repetition(const std::vector<int32_t>& tokens, int32_t times) {
    if (times < 2) return false;
    for (size_t period = 1; period <= kMaxRepeatBlock; ++period) {
        const size_t span = period * static_cast<size_t>(times);
        if (span > tokens.size()) break;
        bool same = true;
        for (size_t i = tokens.size() - span + period; same && i < tokens.size(); ++i) same = tokens[i] == tokens[i - period];
        if (same) return true;
    }
    return false;
}

}  // namespace edgeagent
