#include "edgeagent/session.h"

#include <llama.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "edgeagent/errors.h"
#include "edgeagent/log.h"
#include "text_stream.h"

namespace edgeagent {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// One reusable batch per thread, sized for the largest prefill chunk: the decode
// loop itself then allocates nothing per token.
struct Batch {
    llama_batch b{};
    int32_t capacity = 0;
    ~Batch() {
        if (capacity > 0) llama_batch_free(b);
    }
    void ensure(int32_t n) {
        if (n <= capacity) return;
        if (capacity > 0) llama_batch_free(b);
        b = llama_batch_init(n, 0, 1);
        capacity = n;
    }
};
thread_local Batch t_batch;

}  // namespace

Session::Session(std::shared_ptr<Model> model, const SessionParams& params)
    : model_(std::move(model)), params_(params) {
    if (!model_) throw InvalidArgument("session needs a model");
    if (params_.n_ctx < 16) throw InvalidArgument("n_ctx must be >= 16, got " + std::to_string(params_.n_ctx));
    const int32_t train = model_->n_ctx_train();
    if (train > 0 && params_.n_ctx > static_cast<uint32_t>(train)) {
        throw InvalidArgument("n_ctx " + std::to_string(params_.n_ctx) + " exceeds the model's training context " +
                              std::to_string(train));
    }
    if (params_.n_batch < 1) throw InvalidArgument("n_batch must be >= 1");
    if (params_.n_threads < 0 || params_.n_threads_batch < 0) throw InvalidArgument("n_threads must be >= 0");
    const int32_t hw = std::max(1u, std::thread::hardware_concurrency());
    if (params_.n_threads == 0) params_.n_threads = hw;
    if (params_.n_threads_batch == 0) params_.n_threads_batch = params_.n_threads;

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = params_.n_ctx;
    cp.n_batch = params_.n_batch;
    cp.n_ubatch = params_.n_batch;
    cp.n_seq_max = 1;
    cp.n_threads = params_.n_threads;
    cp.n_threads_batch = params_.n_threads_batch;
    cp.no_perf = true;
    // Sliding-window models (Gemma 3) keep the full cache so that the prefix cache can
    // cut it at any position.
    cp.swa_full = true;
    cp.flash_attn_type = params_.flash_attn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    take_recent_llama_errors();
    ctx_ = llama_init_from_model(model_->raw(), cp);
    if (ctx_ == nullptr) {
        throw ModelFileError("cannot create a context for " + model_->path() + ": " + take_recent_llama_errors());
    }
    // llama.cpp may round the context up and clamp the batch to it: use what it chose,
    // a bigger prefill chunk would trip its assertion.
    params_.n_ctx = llama_n_ctx(ctx_);
    params_.n_batch = std::min(params_.n_batch, llama_n_batch(ctx_));
}

Session::~Session() {
    if (ctx_ != nullptr) llama_free(ctx_);
}

uint32_t Session::n_ctx() const { return llama_n_ctx(ctx_); }

void Session::reset() {
    llama_memory_clear(llama_get_memory(ctx_), true);
    cache_.clear();
}

void Session::prefill(const std::vector<Token>& tokens, size_t from) {
    const int32_t n_batch = static_cast<int32_t>(params_.n_batch);
    t_batch.ensure(n_batch);
    llama_batch& b = t_batch.b;
    for (size_t i = from; i < tokens.size(); i += static_cast<size_t>(n_batch)) {
        const int32_t n = static_cast<int32_t>(std::min(tokens.size() - i, static_cast<size_t>(n_batch)));
        b.n_tokens = n;
        for (int32_t j = 0; j < n; ++j) {
            b.token[j] = tokens[i + j];
            b.pos[j] = static_cast<llama_pos>(i + j);
            b.n_seq_id[j] = 1;
            b.seq_id[j][0] = 0;
            b.logits[j] = (i + j + 1 == tokens.size());
        }
        const int32_t rc = llama_decode(ctx_, b);
        if (rc != 0) {
            reset();
            throw DecodeFailure("llama_decode failed during prefill (code " + std::to_string(rc) + ")" +
                                (rc == 1 ? ": no KV slot left, the context is full" : ""));
        }
        cache_.insert(cache_.end(), tokens.begin() + static_cast<long>(i), tokens.begin() + static_cast<long>(i + n));
    }
}

void Session::decode_one(Token t) {
    t_batch.ensure(std::max<int32_t>(1, static_cast<int32_t>(params_.n_batch)));
    llama_batch& b = t_batch.b;
    b.n_tokens = 1;
    b.token[0] = t;
    b.pos[0] = static_cast<llama_pos>(cache_.size());
    b.n_seq_id[0] = 1;
    b.seq_id[0][0] = 0;
    b.logits[0] = true;
    const int32_t rc = llama_decode(ctx_, b);
    if (rc != 0) {
        reset();
        throw DecodeFailure("llama_decode failed (code " + std::to_string(rc) + ")");
    }
    cache_.push_back(t);
}

GenerateResult Session::generate(const std::vector<Token>& prompt, const GenerateParams& params,
                                 const TokenCallback& on_text) {
    const auto t_start = Clock::now();
    validate(params.sampling);
    if (params.max_tokens < 1) throw InvalidArgument("max_tokens must be >= 1, got " + std::to_string(params.max_tokens));
    if (prompt.empty()) throw InvalidArgument("the prompt is empty (no tokens)");
    const int32_t n_vocab = model_->n_vocab();
    for (size_t i = 0; i < prompt.size(); ++i) {
        if (prompt[i] < 0 || prompt[i] >= n_vocab) {
            throw InvalidArgument("prompt token " + std::to_string(i) + " has id " + std::to_string(prompt[i]) +
                                  ", outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
        }
    }
    const uint32_t ctx_size = n_ctx();
    if (prompt.size() >= ctx_size) {
        throw ContextOverflow("the prompt has " + std::to_string(prompt.size()) +
                              " tokens but the context holds " + std::to_string(ctx_size) +
                              " (prompt plus at least one generated token)");
    }
    TextStream stream(params.stop);

    GenerateResult result;
    Timings& tm = result.timings;
    tm.prompt_tokens = static_cast<int32_t>(prompt.size());

    // Prefix cache: keep the KV entries of the longest common prefix. At least one
    // prompt token is always evaluated, because sampling needs its logits.
    size_t common = 0;
    while (common < cache_.size() && common < prompt.size() && cache_[common] == prompt[common]) ++common;
    if (common == prompt.size()) --common;
    if (common < cache_.size()) {
        if (!llama_memory_seq_rm(llama_get_memory(ctx_), 0, static_cast<llama_pos>(common), -1)) {
            reset();  // this memory cannot be cut mid-way: start over
            common = 0;
        } else {
            cache_.resize(common);
        }
    }
    tm.cached_tokens = static_cast<int32_t>(common);
    const auto t_prefill = Clock::now();
    prefill(prompt, common);
    tm.prefill_ms = ms_since(t_prefill);

    Sampler sampler(n_vocab, params.sampling);
    result.finish_reason = "length";
    Clock::time_point t_first{};
    for (int32_t step = 0; step < params.max_tokens; ++step) {
        float* logits = llama_get_logits_ith(ctx_, -1);
        if (logits == nullptr) throw DecodeFailure("llama.cpp returned no logits");
        const Token tok = sampler.sample(logits, result.tokens.data(), result.tokens.size());
        if (step == 0) {
            t_first = Clock::now();
            tm.ttft_ms = ms_since(t_start);
        }
        tm.generated_tokens = step + 1;
        if (!params.ignore_eos && model_->is_end_of_generation(tok)) {
            result.finish_reason = "eos";
            break;
        }
        result.tokens.push_back(tok);
        const bool stopped = stream.append(model_->token_bytes(tok));
        if (stopped) {
            result.finish_reason = "stop";
            result.stop_sequence = stream.stop_sequence();
            break;
        }
        if (on_text) {
            std::string ready = stream.take_ready();
            if (!ready.empty() && !on_text(ready)) {
                result.finish_reason = "cancelled";
                break;
            }
        }
        if (step + 1 == params.max_tokens) break;  // no need to evaluate the last token
        if (cache_.size() + 1 >= ctx_size) {
            result.finish_reason = "context";
            break;
        }
        decode_one(tok);
    }
    if (tm.generated_tokens > 0) tm.decode_ms = ms_since(t_first);
    std::string rest = stream.take_rest();
    if (on_text && !rest.empty() && result.finish_reason != "cancelled") on_text(rest);
    result.text = stream.text();
    tm.total_ms = ms_since(t_start);
    return result;
}

}  // namespace edgeagent
