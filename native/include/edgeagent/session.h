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
    // With a grammar and jump-forward: where a forced run ends on a token the model may
    // still merge with what follows (the space before a number, the ` "` that opens a
    // string), jump-forward leaves it to the model; it is put in the run's batch all the
    // same, as a draft. The model's pick from the row before it decides: the same token
    // (almost always) saves the step that would evaluate it alone, another one drops it.
    // The picks are the model's own, from logits that differ from a decode without drafts
    // only by a batch's rounding (a near tie may go the other way).
    bool boundary_draft = true;
};

// Throws InvalidArgument unless the gate fits a prompt of `prompt_tokens` tokens and
// names tokens of the vocabulary, and stop_repeats is not negative.
void check_generate_params(const GenerateParams& params, size_t prompt_tokens, int32_t n_vocab);

struct Timings {
    int32_t prompt_tokens = 0;     // tokens in the prompt
    int32_t cached_tokens = 0;     // of those, taken from the prefix cache (not prefilled)
    int32_t generated_tokens = 0;  // tokens in the output (sampled + forced)
    int32_t forced_tokens = 0;     // of those, inserted by jump-forward (not sampled)
    int32_t sparse_steps = 0;      // steps whose logits were computed for the allowed tokens only
    int32_t drafted_tokens = 0;    // boundary drafts evaluated (GenerateParams::boundary_draft)
    int32_t accepted_drafts = 0;   // of those, the model's own pick (a step saved)
    bool prefill_model = false;    // the prompt was evaluated by the prefill model (Session::set_prefill_model)
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

    // A second copy of the model, stored in another type, that evaluates the prompt's
    // batch where that is faster (the BF16 copy on a CPU with AVX512_BF16: a batch
    // ~0.75x the time, a step ~1.1x); its KV entries are then copied into this
    // session's context, which samples. Used when it holds at least as much of the
    // prompt as this context and kPrefillModelMinTokens or more are new; never with a
    // LoRA adapter. nullptr removes it. Throws InvalidArgument when its architecture or
    // vocabulary differs from the session's model.
    void set_prefill_model(std::shared_ptr<Model> model);
    static constexpr size_t kPrefillModelMinTokens = 16;

    // Forgets the KV cache (the next request prefills from scratch).
    void reset();
    const std::vector<Token>& cached_tokens() const { return cache_; }
    uint32_t n_ctx() const;
    const std::shared_ptr<Model>& model() const { return model_; }

private:
    // Appends tokens to the KV cache at the next positions, in batches of n_batch;
    // logits for the last `rows` (1 or 2), and for tokens[also_at] when also_at >= 0,
    // whose greedy next token is returned (-1 otherwise).
    Token decode_tokens(const Token* tokens, size_t n, int64_t also_at = -1, size_t rows = 1);
    // A jump-forward run: the tokens to decode (already accepted by the grammar), whether
    // they replace the last output token (canonical retokenization), and the new bytes.
    // With no run, `held_back`: the forced bytes are one token the model may still merge
    // with what follows, left to it (-1: none).
    struct Forced {
        std::vector<Token> tokens;
        bool replaces_last = false;
        std::string new_bytes;
        Token held_back = -1;
    };
    Forced plan_forced(GrammarMatcher& grammar, const std::string& forced, const std::vector<Token>& output,
                       size_t room) const;
    // The token that must come next whatever the model prefers (see session.cpp), or -1.
    Token only_spelling(GrammarMatcher& grammar, const std::string& forced);
    // Appends to `out` what the grammar forces next (jump-forward runs and only spellings),
    // up to `max_out` tokens, without evaluating the model; `n_new` counts the tokens at
    // the end of `out` not evaluated yet, `n_forced` the forced ones; `held_back`: the
    // token the last run left to the model (Forced::held_back), or -1. Returns the new bytes.
    std::string force_ahead(GrammarMatcher& grammar, std::vector<Token>& out, size_t& n_new, size_t max_out,
                            int32_t& n_forced, Token& held_back);
    // The boundary draft (GenerateParams::boundary_draft): `held_back`, where the grammar
    // takes it and it would save a step, else -1. With `fill_mask`, draft_mask_ gets the
    // tokens the grammar allows after it.
    Token boundary_draft(GrammarMatcher& grammar, Token held_back, bool fill_mask);
    // Drops the last KV entry (a draft the model did not pick).
    void drop_last();

    // Sparse logits (GenerateParams::sparse_logits): the graph is cut after the final
    // norm and the allowed tokens' logits come from the output head.
    static bool on_graph_node(ggml_tensor* t, bool ask, void* user_data);
    // Reads `mask` (the allowed tokens of a step) into few_tokens_[row]; false when they
    // are too many or the output head cannot be used.
    bool few_tokens_next(const std::vector<uint32_t>& mask, size_t row);
    // Evaluates `n` tokens with the logits of the last `rows` computed for few_tokens_[row]
    // only, into few_logits_[row]; false when llama.cpp's full rows were computed instead.
    bool decode_few(const Token* tokens, size_t n, size_t rows);

    std::shared_ptr<Model> model_;
    SessionParams params_;
    std::unique_ptr<OutputHead> head_;
    enum class Head { Unknown, Checked, Unusable } head_state_ = Head::Unknown;
    bool capture_hidden_ = false;  // the graph callback copies the final hidden state...
    bool stop_at_hidden_ = false;  // ...and stops the graph there (no output layer)
    bool hidden_ready_ = false;
    size_t hidden_rows_ = 1;  // how many rows (the last ones) the callback copies
    std::vector<float> hidden_;  // n_embd per row
    std::vector<float> few_logits_[2];  // per row: n_vocab, -inf but for few_tokens_
    std::vector<Token> few_tokens_[2];
    std::vector<uint32_t> draft_mask_;  // the allowed tokens after a boundary draft
    llama_context* ctx_ = nullptr;
    std::vector<Token> cache_;  // tokens whose KV entries are in the context, in order
    llama_context* make_context(const Model& model);
    // The prefill model (set_prefill_model), its context and cache; while it evaluates a
    // prompt, it is swapped into ctx_ and cache_ (PrefillSwap in session.cpp).
    std::shared_ptr<Model> prefill_model_;
    llama_context* prefill_ctx_ = nullptr;
    std::vector<Token> prefill_cache_;
    std::vector<uint8_t> kv_copy_;  // the prefill context's KV entries on their way to ctx_
    void copy_prefill_kv();
    bool cuttable_ = true;  // its memory can drop its last entries (not a recurrent model): drafts allowed
    std::vector<uint32_t> mask_;  // allowed-token bitmask, sized once per session
    std::vector<Token> end_tokens_;  // end-of-generation tokens (for end_bias)
    // The adapter whose effect is in the KV cache (kept alive so the pointer stays unique).
    std::shared_ptr<LoraAdapter> active_adapter_;
    float active_scale_ = 0.0f;
    void use_adapter(const std::shared_ptr<LoraAdapter>& adapter, float scale);
};

}  // namespace edgeagent
