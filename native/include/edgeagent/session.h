// A session is one llama.cpp context over a model: the KV cache, the decode loop,
// stop strings and the prefix cache (a prompt that starts like the previous request
// re-uses its KV entries instead of prefilling them again).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edgeagent/adapter.h"
#include "edgeagent/model.h"
#include "edgeagent/sampler.h"

struct llama_context;
struct ggml_tensor;

namespace edgeagent {

class GrammarMatcher;
class OutputHead;
class PromptLookup;

struct SessionParams {
    uint32_t n_ctx = 4096;     // context window in tokens (<= the model's training context)
    int32_t n_threads = 0;     // 0: all hardware threads
    int32_t n_threads_batch = 0;
    uint32_t n_batch = 512;    // prompt tokens per llama_decode call
    // Off by default: on CPU, flash attention makes a prompt prefilled in two parts
    // (prefix cache + tail) differ numerically from the same prompt prefilled at once.
    bool flash_attn = false;
};

struct GenerateParams {
    SamplingParams sampling;
    int32_t max_tokens = 256;
    std::vector<std::string> stop;  // generation ends before the first occurrence of any
    bool ignore_eos = false;        // keep going past end-of-generation tokens
    // With a grammar: when the grammar forces the next bytes, feed them to the model as
    // one batch instead of sampling them token by token.
    bool jump_forward = true;
    // With a grammar: added to the logits of the end-of-generation tokens wherever the
    // grammar may end. Small models constrained into a tool-call format tend to keep
    // writing calls; a positive bias makes them stop once their calls are complete.
    float end_bias = 0.0f;
    // Added to the logits of these tokens at every step (before the grammar mask), like
    // OpenAI's logit_bias. Token ids must be inside the vocabulary.
    std::vector<std::pair<Token, float>> logit_bias;
    // A LoRA adapter of this session's model applied for this request (none: the base
    // model), scaled by `adapter_scale`. Switching adapters clears the prefix cache:
    // KV entries computed under one adapter are not valid under another.
    std::shared_ptr<LoraAdapter> adapter;
    float adapter_scale = 1.0f;
    // A decision read off the prompt's batch: the greedy token after prompt token
    // `gate_position` (-1: no gate) must be one of `gate_tokens` for generation to go on;
    // otherwise it ends there, finish "gated", no output. An agent asks "does the model
    // mean to call a tool?" at the end of the conversation and the call's reply prefix
    // and forced opening go in the same batch: the question costs no prefill of its own.
    int32_t gate_position = -1;
    std::vector<Token> gate_tokens;
    // With a grammar: where it allows at most a few thousand tokens next, compute only
    // their logits (skipping the output layer, ~a quarter of a small model's step). The
    // others are masked anyway; the allowed ones match llama.cpp's to float rounding
    // (checked against it on first use). False: every step runs the full output layer.
    bool sparse_logits = true;
    // Ends generation (finish "repetition") once the output ends with a block of 1 to
    // kMaxRepeatBlock (16) tokens written this many times in a row; 0: never. A small model constrained into
    // a list can loop on one entry (`[0, 0, 0, ...`) until max_tokens.
    int32_t stop_repeats = 0;
    // Prompt lookup, with a grammar and greedy sampling (temperature 0, no repeat
    // penalty): where the output has begun a word the prompt holds, up to this many tokens
    // of the prompt's continuation are checked against the model in the step's batch
    // (kept while they are the model's own picks) instead of decoded one step each.
    // 0: off; at most kMaxDraftTokens.
    int32_t draft_tokens = 8;
};
constexpr int32_t kMaxDraftTokens = 16;

// Throws InvalidArgument unless the gate fits a prompt of `prompt_tokens` tokens and
// names tokens of the vocabulary, and stop_repeats is not negative.
void check_generate_params(const GenerateParams& params, size_t prompt_tokens, int32_t n_vocab);

struct Timings {
    int32_t prompt_tokens = 0;     // tokens in the prompt
    int32_t cached_tokens = 0;     // of those, taken from the prefix cache (not prefilled)
    int32_t generated_tokens = 0;  // tokens in the output (sampled + forced)
    int32_t forced_tokens = 0;     // of those, inserted by jump-forward (not sampled)
    int32_t sparse_steps = 0;      // steps whose logits were computed for the allowed tokens only
    int32_t drafted_tokens = 0;    // tokens checked by prompt lookup (GenerateParams::draft_tokens)...
    int32_t accepted_tokens = 0;   // ...and of those, the model's own picks (output without a step of their own)
    double prefill_ms = 0;         // time to evaluate the uncached prompt tokens
    double ttft_ms = 0;            // request start → first token sampled
    double decode_ms = 0;          // first token sampled → last token sampled
    double total_ms = 0;
    double prefill_tok_s() const { return prefill_ms > 0 ? (prompt_tokens - cached_tokens) * 1000.0 / prefill_ms : 0; }
    double decode_tok_s() const { return decode_ms > 0 ? (generated_tokens - 1) * 1000.0 / decode_ms : 0; }
    int32_t sampled_tokens() const { return generated_tokens - forced_tokens; }
};

struct GenerateResult {
    std::string text;            // generated bytes, stop string excluded (valid UTF-8)
    std::vector<Token> tokens;   // sampled tokens (end-of-generation token excluded)
    std::string finish_reason;   // "stop", "eos", "length", "context", "cancelled", "gated", "repetition"
    std::string stop_sequence;   // the stop string that ended generation, if any
    Token gate_token = -1;       // the greedy token at GenerateParams::gate_position
    Timings timings;
};

// Receives each piece of text as soon as it is safe to show (complete UTF-8, not a
// possible start of a stop string). Returning false cancels generation.
using TokenCallback = std::function<bool(const std::string& text_delta)>;

class Session {
public:
    Session(std::shared_ptr<Model> model, const SessionParams& params);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // With `grammar`, every token is sampled under its mask and accepted by it; the
    // output then matches the grammar (finish "eos" once the grammar has ended). The
    // matcher must be built on this model's vocabulary (Model::grammar_vocabulary).
    GenerateResult generate(const std::vector<Token>& prompt, const GenerateParams& params,
                            const TokenCallback& on_text = nullptr, GrammarMatcher* grammar = nullptr);

    // Evaluates `tokens` from an empty cache and returns the logits at every position
    // (tokens.size() rows of n_vocab floats, row-major): for perplexity and for comparing
    // a quantized model's next-token distributions with its source's.
    std::vector<float> all_logits(const std::vector<Token>& tokens);

    // Forgets the KV cache (the next request prefills from scratch).
    void reset();
    const std::vector<Token>& cached_tokens() const { return cache_; }
    uint32_t n_ctx() const;
    const std::shared_ptr<Model>& model() const { return model_; }

private:
    // Appends tokens to the KV cache at the next positions, in batches of n_batch;
    // logits for the last `n_outputs` ones only (within the last batch), and for
    // tokens[also_at] when also_at >= 0, whose greedy next token is returned (-1 otherwise).
    Token decode_tokens(const Token* tokens, size_t n, int64_t also_at = -1, size_t n_outputs = 1);
    // Prompt lookup: the tokens of the prompt's continuation of the output (see
    // prompt_lookup.h) the grammar accepts, at most `max_draft`, none after which the
    // grammar forces bytes. `few`: whether the grammar allows few tokens at every state
    // the draft's check samples in (then only their logits are computed).
    std::vector<Token> plan_draft(GrammarMatcher& grammar, const PromptLookup& lookup, const std::vector<Token>& output,
                                  size_t max_draft, bool& few);
    // Evaluates `pending` and `draft` in one batch with logits for the draft's n+1 steps;
    // returns whether they are sparse (draft_logits then fills few_logits_ per step).
    bool decode_draft(const std::vector<Token>& pending, const std::vector<Token>& draft, bool few);
    // The logits of step `i` of the last draft's check: sparse ones for mask_'s tokens, or
    // llama.cpp's row.
    float* draft_logits(size_t i, size_t n_pending, bool sparse);
    // A jump-forward run: the tokens to decode (already accepted by the grammar), whether
    // they replace the last output token (canonical retokenization), and the new bytes.
    struct Forced {
        std::vector<Token> tokens;
        bool replaces_last = false;
        std::string new_bytes;
    };
    Forced plan_forced(GrammarMatcher& grammar, const std::string& forced, const std::vector<Token>& output,
                       size_t room) const;
    // The token that must come next whatever the model prefers (see session.cpp), or -1.
    Token only_spelling(GrammarMatcher& grammar, const std::string& forced);
    // Appends to `out` what the grammar forces next (jump-forward runs and only spellings),
    // up to `max_out` tokens, without evaluating the model; `n_new` counts the tokens at
    // the end of `out` not evaluated yet, `n_forced` the forced ones. Returns the new bytes.
    std::string force_ahead(GrammarMatcher& grammar, std::vector<Token>& out, size_t& n_new, size_t max_out,
                            int32_t& n_forced);

    // Sparse logits (GenerateParams::sparse_logits): the graph is cut after the final
    // norm and the allowed tokens' logits come from the output head.
    static bool on_graph_node(ggml_tensor* t, bool ask, void* user_data);
    bool few_tokens_next();  // reads mask_, the allowed tokens of the step to come
    float* decode_few(const Token* tokens, size_t n);

    std::shared_ptr<Model> model_;
    SessionParams params_;
    std::unique_ptr<OutputHead> head_;
    enum class Head { Unknown, Checked, Unusable } head_state_ = Head::Unknown;
    bool capture_hidden_ = false;  // the graph callback copies the final hidden state...
    bool stop_at_hidden_ = false;  // ...and stops the graph there (no output layer)
    bool hidden_ready_ = false;
    std::vector<float> hidden_;  // the final hidden state of each output row (up to kMaxDraftTokens + 1)
    size_t hidden_rows_ = 0;
    std::vector<float> few_logits_;  // n_vocab, -inf but for few_tokens_
    std::vector<Token> few_tokens_;
    llama_context* ctx_ = nullptr;
    std::vector<Token> cache_;  // tokens whose KV entries are in the context, in order
    std::vector<uint32_t> mask_;  // allowed-token bitmask, sized once per session
    std::vector<Token> end_tokens_;  // end-of-generation tokens (for end_bias)
    // The adapter whose effect is in the KV cache (kept alive so the pointer stays unique).
    std::shared_ptr<LoraAdapter> active_adapter_;
    float active_scale_ = 0.0f;
    void use_adapter(const std::shared_ptr<LoraAdapter>& adapter, float scale);
};

}  // namespace edgeagent
