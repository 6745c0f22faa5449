// Next-token sampling from logits: greedy, or temperature with top-k, top-p and min-p.
// Buffers are sized once per vocabulary, so sampling allocates nothing per token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace edgeagent {

struct SamplingParams {
    float temperature = 0.0f;  // 0 means greedy (argmax); must be >= 0
    int32_t top_k = 0;         // 0 disables; else keep the k most likely tokens
    float top_p = 1.0f;        // (0, 1]; keep the smallest set whose mass reaches top_p
    float min_p = 0.0f;        // [0, 1); drop tokens with p < min_p * p_max
    float repeat_penalty = 1.0f;  // >= 1 penalizes tokens among the last `repeat_last_n`
    int32_t repeat_last_n = 64;
    uint64_t seed = 0;         // same seed, same prompt, same model: same output
};

// Throws InvalidArgument naming the first field out of range.
void validate(const SamplingParams& p);

// Whether `tokens` ends with a block of 1 to kMaxRepeatBlock tokens written `times` times
// in a row (GenerateParams::stop_repeats; never for times < 2).
constexpr size_t kMaxRepeatBlock = 16;
bool ends_in_repetition(const std::vector<int32_t>& tokens, int32_t times);

class Sampler {
public:
    Sampler(int32_t n_vocab, const SamplingParams& params);

    // Picks a token from `logits` (n_vocab floats, modified in place by penalties).
    // `recent` are the latest tokens for the repeat penalty. `allowed` (optional) is a
    // bitmask of n_vocab bits: tokens whose bit is 0 are never picked.
    int32_t sample(float* logits, const int32_t* recent, size_t n_recent,
                   const uint32_t* allowed = nullptr);

private:
    template <typename F>
    void for_each_allowed(const uint32_t* allowed, F&& f) const;

    int32_t n_vocab_;
    SamplingParams params_;
    std::mt19937_64 rng_;
    std::vector<std::pair<float, int32_t>> candidates_;  // (logit or prob, token)
};

}  // namespace edgeagent
