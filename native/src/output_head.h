// The model's output layer (final hidden state -> logits), read straight from the GGUF
// file, for the logits of a few tokens. Where a grammar allows only a handful of tokens
// (a digit, `,` or `}`, a property name) the session skips llama.cpp's output layer, the
// largest matrix of a small model (Qwen2.5-0.5B: 136M of its 494M weights, read in full
// at every decode step), and computes those tokens' logits here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct ggml_type_traits_cpu;

namespace edgeagent {

class OutputHead {
public:
    // The output matrix of the model file at `path` (`output.weight`, or the token
    // embeddings of a model that ties them), mapped read-only. nullptr when there is
    // none of shape n_embd x n_vocab, or its type has no CPU dot product.
    static std::unique_ptr<OutputHead> open(const std::string& path, int64_t n_embd, int64_t n_vocab);
    ~OutputHead();
    OutputHead(const OutputHead&) = delete;
    OutputHead& operator=(const OutputHead&) = delete;

    // out[t] = (row t) . hidden for each of the n tokens (the other entries untouched).
    // `hidden` holds n_embd floats. The hidden state is quantized to the dot product's
    // type first, as llama.cpp's matrix product does. Not thread-safe (one scratch).
    void logits(const float* hidden, const int32_t* tokens, size_t n, float* out);

private:
    OutputHead() = default;
    void* map_ = nullptr;
    size_t map_size_ = 0;
    const uint8_t* rows_ = nullptr;
    size_t row_size_ = 0;
    int64_t n_embd_ = 0;
    const ggml_type_traits_cpu* traits_ = nullptr;
    const ggml_type_traits_cpu* hidden_traits_ = nullptr;  // of the type `hidden` is quantized to
    std::vector<uint8_t> hidden_q_;
};

}  // namespace edgeagent
