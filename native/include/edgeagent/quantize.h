// Quantization of GGUF models through llama.cpp (llama_model_quantize), with an
// optional importance matrix computed by running the source model on calibration text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgeagent {

// Per weight tensor ("blk.0.attn_q.weight"): the mean of the squared activations that
// multiply each of its columns. llama.cpp uses it to weight quantization errors.
using ImportanceMatrix = std::map<std::string, std::vector<float>>;

struct QuantizeParams {
    std::string type = "q4_k_m";  // f16, bf16, q8_0, q6_k, q5_k_m, q4_k_m, q4_0, iq4_nl (see quantize_types())
    int32_t n_threads = 0;        // 0: all hardware threads
    const ImportanceMatrix* imatrix = nullptr;  // optional, not owned
    // `src` is itself quantized: its matrices are re-encoded as `type` (llama.cpp's
    // allow_requantize), and its output and token-embedding tensors are copied as they
    // are (a token reads a few rows of each: a wider type would cost memory, not time).
    bool from_quantized = false;
};

// The quantization type names we accept, in order of decreasing size.
const std::vector<std::string>& quantize_types();

// Whether this CPU multiplies BF16 natively (AVX512_BF16): there llama.cpp's BF16 matrix
// products run a prompt's batch faster than its 4- and 5-bit ones.
bool cpu_has_avx512_bf16();

// Writes `dst` quantized from `src` (a GGUF, normally f16 or f32; see from_quantized). Throws
// InvalidArgument for an unknown type or a missing source, ModelFileError when
// llama.cpp refuses the file. `dst` is written directly: callers rename atomically.
void quantize_model(const std::string& src, const std::string& dst, const QuantizeParams& params);

// Runs the model at `path` over `tokens` in chunks of `n_ctx` and collects the
// importance matrix of its dense matrix multiplications. Needs at least one chunk of
// n_ctx tokens (>= 16). Throws InvalidArgument when the text is too short.
ImportanceMatrix compute_importance_matrix(const std::string& path, const std::vector<int32_t>& tokens,
                                           int32_t n_ctx, int32_t n_threads);

}  // namespace edgeagent
