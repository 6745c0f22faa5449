#include "edgeagent/session.h"

#include <ggml-backend.h>
#include <ggml.h>
#include <llama.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "edgeagent/errors.h"
#include "edgeagent/grammar.h"
#include "edgeagent/log.h"
#include "output_head.h"
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

// Sparse logits pay off below this many allowed tokens: their dot products cost ~0.2 µs
// each, the output layer ~13 ms a step (Qwen2.5-0.5B, two cores).
constexpr size_t kFewTokens = 4096;

}  // namespace

void check_generate_params(const GenerateParams& params, size_t prompt_tokens, int32_t n_vocab) {
    if (params.stop_repeats < 0) throw InvalidArgument("stop_repeats must be >= 0, got " + std::to_string(params.stop_repeats));
    if (params.gate_position < -1 || params.gate_position >= static_cast<int64_t>(prompt_tokens)) {
        throw InvalidArgument("gate_position " + std::to_string(params.gate_position) + " is outside the prompt [0, " +
                              std::to_string(prompt_tokens) + ")");
    }
    for (Token t : params.gate_tokens) {
        if (t < 0 || t >= n_vocab) {
            throw InvalidArgument("gate_tokens names token " + std::to_string(t) + ", outside the vocabulary [0, " +
                                  std::to_string(n_vocab) + ")");
        }
    }
}

Session::Session(std::shared_ptr<Model> model, const SessionParams& params)
    : model_(std::move(model)), params_(params) {
    if (!model_) throw InvalidArgument("session needs a model");
    if (model_->vocab_only()) throw InvalidArgument("a vocabulary-only model has no weights to run: " + model_->path());
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

    ctx_ = make_context(*model_);
    cuttable_ = !llama_model_is_recurrent(model_->raw()) && !llama_model_is_hybrid(model_->raw());
    // llama.cpp may round the context up and clamp the batch to it: use what it chose,
    // a bigger prefill chunk would trip its assertion.
    params_.n_ctx = llama_n_ctx(ctx_);
    params_.n_batch = std::min(params_.n_batch, llama_n_batch(ctx_));
}

llama_context* Session::make_context(const Model& model) {
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
    cp.cb_eval = &Session::on_graph_node;
    cp.cb_eval_user_data = this;
    take_recent_llama_errors();
    llama_context* ctx = llama_init_from_model(model.raw(), cp);
    if (ctx == nullptr) {
        throw ModelFileError("cannot create a context for " + model.path() + ": " + take_recent_llama_errors());
    }
    return ctx;
}

void Session::set_prefill_model(std::shared_ptr<Model> model) {
    if (prefill_ctx_ != nullptr) llama_free(prefill_ctx_);
    prefill_ctx_ = nullptr;
    prefill_model_.reset();
    prefill_cache_.clear();
    if (!model) return;
    if (model->vocab_only()) throw InvalidArgument("a vocabulary-only model cannot prefill: " + model->path());
    const llama_model* a = model_->raw();
    const llama_model* b = model->raw();
    char arch_a[64] = {0}, arch_b[64] = {0};
    llama_model_meta_val_str(a, "general.architecture", arch_a, sizeof arch_a);
    llama_model_meta_val_str(b, "general.architecture", arch_b, sizeof arch_b);
    if (std::strcmp(arch_a, arch_b) != 0 || llama_model_n_embd(a) != llama_model_n_embd(b) ||
        llama_model_n_layer(a) != llama_model_n_layer(b) || llama_model_n_head(a) != llama_model_n_head(b) ||
        llama_model_n_head_kv(a) != llama_model_n_head_kv(b) || model->all_token_bytes() != model_->all_token_bytes()) {
        throw InvalidArgument("the prefill model " + model->path() + " is not a copy of " + model_->path() +
                              " (its architecture, shape or vocabulary differs)");
    }
    if (!cuttable_) throw InvalidArgument("a recurrent model's state cannot be copied from a prefill model");
    llama_context* ctx = make_context(*model);
    if (llama_n_ctx(ctx) != llama_n_ctx(ctx_)) {
        llama_free(ctx);
        throw InvalidArgument("the prefill model's context differs in size from the session's");
    }
    prefill_ctx_ = ctx;
    prefill_model_ = std::move(model);
}

void Session::copy_prefill_kv() {
    const size_t size = llama_state_seq_get_size(prefill_ctx_, 0);
    kv_copy_.resize(size);
    const bool ok = llama_state_seq_get_data(prefill_ctx_, kv_copy_.data(), size, 0) == size &&
                    llama_memory_seq_rm(llama_get_memory(ctx_), 0, -1, -1) &&
                    llama_state_seq_set_data(ctx_, kv_copy_.data(), size, 0) == size;
    if (!ok) {
        reset();
        throw DecodeFailure("llama.cpp could not copy the prefill model's KV entries");
    }
    cache_ = prefill_cache_;
}

Session::~Session() {
    if (prefill_ctx_ != nullptr) llama_free(prefill_ctx_);
    if (ctx_ != nullptr) llama_free(ctx_);
}

bool Session::on_graph_node(ggml_tensor* t, bool ask, void* user_data) {
    auto* self = static_cast<Session*>(user_data);
    // Asked "do you want this node?": only the final norm, only when capturing. Told it
    // is computed: true goes on with the graph, false stops it there.
    if (ask) return self->capture_hidden_ && std::strcmp(t->name, "result_norm") == 0;
    if (!self->capture_hidden_) return true;
    const int64_t n_embd = static_cast<int64_t>(self->hidden_.size() / 2);
    const int64_t rows = static_cast<int64_t>(self->hidden_rows_);
    if (t->type != GGML_TYPE_F32 || t->ne[0] != n_embd || t->ne[1] < rows || !ggml_is_contiguous(t) ||
        t->buffer == nullptr || !ggml_backend_buffer_is_host(t->buffer)) {
        return true;  // not the shape we know: the full output layer runs, hidden_ready_ stays false
    }
    // One row per output token (llama.cpp drops the others before the final norm): the last ones.
    const float* first = static_cast<const float*>(t->data) + (t->ne[1] - rows) * n_embd;
    std::copy(first, first + rows * n_embd, self->hidden_.begin());
    self->hidden_ready_ = true;
    return !self->stop_at_hidden_;
}

bool Session::few_tokens_next(const std::vector<uint32_t>& mask, size_t row) {
    if (head_state_ == Head::Unusable || active_adapter_) return false;
    const size_t n_vocab = static_cast<size_t>(model_->n_vocab());
    std::vector<Token>& few = few_tokens_[row];
    few.clear();
    for (size_t w = 0; w < mask.size(); ++w) {
        uint32_t bits = mask[w];
        if (bits == 0) continue;
        if (few.size() + static_cast<size_t>(__builtin_popcount(bits)) > kFewTokens) return false;
        for (; bits != 0; bits &= bits - 1) {
            const size_t t = w * 32 + static_cast<size_t>(__builtin_ctz(bits));
            if (t < n_vocab) few.push_back(static_cast<Token>(t));
        }
    }
    if (few.empty()) return false;
    if (!head_) {
        head_ = OutputHead::open(model_->path(), llama_model_n_embd(model_->raw()), model_->n_vocab());
        if (!head_) {
            head_state_ = Head::Unusable;
            return false;
        }
        hidden_.resize(2 * static_cast<size_t>(llama_model_n_embd(model_->raw())));
        for (auto& row : few_logits_) row.assign(n_vocab, -std::numeric_limits<float>::infinity());
    }
    return true;
}

bool Session::decode_few(const Token* tokens, size_t n, size_t rows) {
    capture_hidden_ = true;
    hidden_rows_ = rows;
    stop_at_hidden_ = head_state_ == Head::Checked;
    hidden_ready_ = false;
    try {
        decode_tokens(tokens, n, -1, rows);
    } catch (...) {
        capture_hidden_ = stop_at_hidden_ = false;
        throw;
    }
    capture_hidden_ = stop_at_hidden_ = false;
    if (!hidden_ready_) {  // no final norm seen: this model's graph is not the one we know
        head_state_ = Head::Unusable;
        return false;
    }
    // Only the allowed tokens' entries are written: the sampler reads no other under a mask.
    const size_t n_embd = hidden_.size() / 2;
    for (size_t r = 0; r < rows; ++r) {
        head_->logits(hidden_.data() + r * n_embd, few_tokens_[r].data(), few_tokens_[r].size(), few_logits_[r].data());
    }
    if (head_state_ == Head::Checked) return true;
    // First use: the full layer ran too; use the head only if it gives llama.cpp's logits
    // (no bias, scale or soft cap after the matrix, no adapter on it).
    const float* full = llama_get_logits_ith(ctx_, -1);
    if (full == nullptr) throw DecodeFailure("llama.cpp returned no logits");
    const std::vector<float>& mine = few_logits_[rows - 1];
    bool same = true;
    for (Token t : few_tokens_[rows - 1]) same = same && std::fabs(full[t] - mine[t]) <= 1e-3f * (1.0f + std::fabs(full[t]));
    head_state_ = same ? Head::Checked : Head::Unusable;
    return false;
}

uint32_t Session::n_ctx() const { return llama_n_ctx(ctx_); }

void Session::use_adapter(const std::shared_ptr<LoraAdapter>& adapter, float scale) {
    if (adapter && adapter->model() != model_.get())
        throw InvalidArgument("this adapter was loaded for another model (" + adapter->model()->path() + ")");
    if (!std::isfinite(scale)) throw InvalidArgument("adapter_scale must be a finite number");
    const float want_scale = adapter ? scale : 0.0f;
    if (adapter == active_adapter_ && want_scale == active_scale_) return;
    llama_adapter_lora* raw = adapter ? adapter->raw() : nullptr;
    float s = want_scale;
    if (llama_set_adapters_lora(ctx_, adapter ? &raw : nullptr, adapter ? 1 : 0, adapter ? &s : nullptr) != 0)
        throw DecodeFailure("llama.cpp refused to set the LoRA adapter " + (adapter ? adapter->path() : ""));
    // The cached KV entries were computed under the previous adapter.
    reset();
    active_adapter_ = adapter;
    active_scale_ = want_scale;
}

void Session::reset() {
    llama_memory_clear(llama_get_memory(ctx_), true);
    cache_.clear();
    if (prefill_ctx_ != nullptr) {
        llama_memory_clear(llama_get_memory(prefill_ctx_), true);
        prefill_cache_.clear();
    }
}

Token Session::decode_tokens(const Token* tokens, size_t n, int64_t also_at, size_t rows) {
    Token greedy = -1;
    const size_t n_batch = params_.n_batch;
    // the rows read after the call must come from its last llama_decode
    if (rows < 1 || rows > n || (n - rows) / n_batch != (n - 1) / n_batch)
        throw InvalidArgument("decode_tokens: the last " + std::to_string(rows) + " rows span two batches");
    t_batch.ensure(static_cast<int32_t>(n_batch));
    llama_batch& b = t_batch.b;
    for (size_t i = 0; i < n; i += n_batch) {
        const size_t chunk = std::min(n - i, n_batch);
        b.n_tokens = static_cast<int32_t>(chunk);
        for (size_t j = 0; j < chunk; ++j) {
            b.token[j] = tokens[i + j];
            b.pos[j] = static_cast<llama_pos>(cache_.size() + j);
            b.n_seq_id[j] = 1;
            b.seq_id[j][0] = 0;
            b.logits[j] = (i + j + rows >= n) || static_cast<int64_t>(i + j) == also_at;
        }
        const int32_t rc = llama_decode(ctx_, b);
        if (rc != 0) {
            reset();
            throw DecodeFailure("llama_decode failed (code " + std::to_string(rc) + ")" +
                                (rc == 1 ? ": no KV slot left, the context is full" : ""));
        }
        cache_.insert(cache_.end(), tokens + i, tokens + i + chunk);
        if (also_at >= static_cast<int64_t>(i) && also_at < static_cast<int64_t>(i + chunk)) {
            // read now: the next batch overwrites the logits
            const float* row = llama_get_logits_ith(ctx_, static_cast<int32_t>(also_at - static_cast<int64_t>(i)));
            if (row == nullptr) throw DecodeFailure("llama.cpp returned no logits");
            greedy = static_cast<Token>(std::max_element(row, row + model_->n_vocab()) - row);
        }
    }
    return greedy;
}

std::vector<float> Session::all_logits(const std::vector<Token>& tokens) {
    const int32_t n_vocab = model_->n_vocab();
    if (tokens.empty()) throw InvalidArgument("no tokens to evaluate");
    if (tokens.size() >= n_ctx()) throw ContextOverflow("the text has " + std::to_string(tokens.size()) +
                                                        " tokens, the context holds " + std::to_string(n_ctx()));
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            throw InvalidArgument("token " + std::to_string(i) + " is outside the vocabulary");
    use_adapter(nullptr, 0.0f);
    reset();
    std::vector<float> out(tokens.size() * static_cast<size_t>(n_vocab));
    const size_t n_batch = params_.n_batch;
    t_batch.ensure(static_cast<int32_t>(n_batch));
    llama_batch& b = t_batch.b;
    for (size_t i = 0; i < tokens.size(); i += n_batch) {
        const size_t chunk = std::min(tokens.size() - i, n_batch);
        b.n_tokens = static_cast<int32_t>(chunk);
        for (size_t j = 0; j < chunk; ++j) {
            b.token[j] = tokens[i + j];
            b.pos[j] = static_cast<llama_pos>(i + j);
            b.n_seq_id[j] = 1;
            b.seq_id[j][0] = 0;
            b.logits[j] = true;
        }
        if (llama_decode(ctx_, b) != 0) {
            reset();
            throw DecodeFailure("llama_decode failed while evaluating logits");
        }
        for (size_t j = 0; j < chunk; ++j) {
            const float* row = llama_get_logits_ith(ctx_, static_cast<int32_t>(j));
            if (row == nullptr) throw DecodeFailure("llama.cpp returned no logits");
            std::copy(row, row + n_vocab, out.begin() + static_cast<long>((i + j) * n_vocab));
        }
        cache_.insert(cache_.end(), tokens.begin() + static_cast<long>(i), tokens.begin() + static_cast<long>(i + chunk));
    }
    return out;
}

Session::Forced Session::plan_forced(GrammarMatcher& grammar, const std::string& forced,
                                     const std::vector<Token>& output, size_t room) const {
    // Canonical tokenization at the boundary: the previous output token and the forced
    // bytes are tokenized together, so the model sees the tokens it would have seen had
    // the text been written in one go (e.g. `"` + `name` may really be one token `"name`).
    Forced f;
    std::vector<Token> toks;
    const bool has_prev = !output.empty();
    if (has_prev) {
        const Token prev = output.back();
        toks = model_->tokenize(model_->token_bytes(prev) + forced, false, false);
        if (!toks.empty() && toks[0] == prev) {
            toks.erase(toks.begin());
        } else {
            f.replaces_last = true;
        }
    } else {
        toks = model_->tokenize(forced, false, false);
    }
    // The right boundary: the run's last token is left to the model, which may merge it
    // with what follows. `": ` then `[` is not how the text is written: the model writes
    // `":` and ` ["`, and forced to stop after the space it writes `[""]` for a list of
    // strings it would have filled (BFCL dev: arrays of strings came out empty).
    if (toks.size() < 2) {
        Forced left;  // no run; a lone token of the forced bytes is the model's to write
        if (toks.size() == 1 && !f.replaces_last) left.held_back = toks[0];
        return left;
    }
    toks.pop_back();
    // A forced run longer than the tokens left is not forced: sampling ends the output.
    if (toks.size() > room + (f.replaces_last ? 1 : 0)) return {};
    std::string kept;
    for (Token t : toks) kept += model_->token_bytes(t);
    if (f.replaces_last) {
        const std::string& prev_bytes = model_->token_bytes(output.back());
        if (kept.size() <= prev_bytes.size() || kept.compare(0, prev_bytes.size(), prev_bytes) != 0) return {};
        f.new_bytes = kept.substr(prev_bytes.size());
    } else {
        f.new_bytes = std::move(kept);
    }
    // Check every token against the grammar before committing to anything.
    if (f.replaces_last) grammar.rollback(1);
    size_t accepted = 0;
    while (accepted < toks.size() && grammar.accept_token(toks[accepted])) ++accepted;
    if (accepted < toks.size()) {
        grammar.rollback(accepted);
        if (f.replaces_last && !grammar.accept_token(output.back()))
            throw DecodeFailure("grammar state lost while planning a jump-forward");
        return {};
    }
    f.tokens = std::move(toks);
    return f;
}

Token Session::only_spelling(GrammarMatcher& grammar, const std::string& forced) {
    // The canonical first token of the forced bytes, when every token the grammar allows
    // here lies within them: then no token can merge them with what follows, and the
    // model's choice would only be how to spell them.
    const std::vector<Token> toks = model_->tokenize(forced, false, false);
    if (toks.empty()) return -1;
    grammar.fill_next_token_bitmask(mask_.data(), mask_.size());
    const size_t n_vocab = static_cast<size_t>(model_->n_vocab());
    const size_t first = static_cast<size_t>(toks[0]);
    if (first >= n_vocab || !(mask_[first / 32] >> (first % 32) & 1u)) return -1;
    size_t seen = 0;
    for (size_t w = 0; w < mask_.size(); ++w) {
        for (uint32_t bits = mask_[w]; bits != 0; bits &= bits - 1) {
            const size_t t = w * 32 + static_cast<size_t>(__builtin_ctz(bits));
            if (t >= n_vocab) break;
            const std::string& b = model_->token_bytes(static_cast<Token>(t));
            // an end token (no bytes) or one past the forced bytes is a real choice
            if (++seen > 64 || b.empty() || b.size() > forced.size() || forced.compare(0, b.size(), b) != 0) return -1;
        }
    }
    return toks[0];
}

std::string Session::force_ahead(GrammarMatcher& grammar, std::vector<Token>& out, size_t& n_new, size_t max_out,
                                 int32_t& n_forced, Token& held_back) {
    std::string bytes;
    held_back = -1;
    while (out.size() < max_out) {
        const std::string forced = grammar.find_jump_forward_bytes();
        if (forced.empty()) break;
        const Forced f = plan_forced(grammar, forced, out, max_out - out.size());
        if (!f.tokens.empty()) {
            if (f.replaces_last) {  // the last token merges with the forced bytes
                if (n_new == 0) throw DecodeFailure("a jump-forward would replace an evaluated token");
                out.pop_back();
                --n_new;
            }
            out.insert(out.end(), f.tokens.begin(), f.tokens.end());
            n_new += f.tokens.size();
            n_forced += static_cast<int32_t>(f.tokens.size()) - (f.replaces_last ? 1 : 0);
            bytes += f.new_bytes;
            continue;
        }
        const Token t = only_spelling(grammar, forced);
        if (t < 0 || !grammar.accept_token(t)) {
            held_back = f.held_back;
            break;
        }
        out.push_back(t);
        ++n_new;
        ++n_forced;
        bytes += model_->token_bytes(t);
    }
    return bytes;
}

Token Session::boundary_draft(GrammarMatcher& grammar, Token held_back, bool fill_mask) {
    // What jump-forward left to the model (` ` before a number, ` "` before a string): a
    // token it may merge with what follows (` -5`, ` "/path`), and so picks itself.
    if (held_back < 0 || !grammar.accept_token(held_back)) return -1;
    // It saves a step only where its own row gives the next logits: not where more bytes
    // are forced after it (they go in a batch of their own) or only the end may follow.
    const bool saves = grammar.find_jump_forward_bytes().empty() && !grammar.must_terminate();
    if (saves && fill_mask) grammar.fill_next_token_bitmask(draft_mask_.data(), draft_mask_.size());
    grammar.rollback(1);
    return saves ? held_back : -1;
}

void Session::drop_last() {
    if (!llama_memory_seq_rm(llama_get_memory(ctx_), 0, static_cast<llama_pos>(cache_.size() - 1), -1)) {
        reset();
        throw DecodeFailure("llama.cpp could not drop the KV entry of a draft the model did not pick");
    }
    cache_.pop_back();
}

GenerateResult Session::generate(const std::vector<Token>& prompt, const GenerateParams& params,
                                 const TokenCallback& on_text, GrammarMatcher* grammar) {
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
    if (grammar != nullptr) {
        mask_.resize((static_cast<size_t>(n_vocab) + 31) / 32);
        draft_mask_.resize(mask_.size());
        if (end_tokens_.empty()) end_tokens_ = model_->grammar_vocabulary()->eos_token_ids();
    }
    if (!std::isfinite(params.end_bias)) throw InvalidArgument("end_bias must be a finite number");
    for (const auto& [token, bias] : params.logit_bias) {
        if (token < 0 || token >= n_vocab) {
            throw InvalidArgument("logit_bias names token " + std::to_string(token) + ", outside the vocabulary [0, " +
                                  std::to_string(n_vocab) + ")");
        }
        if (!std::isfinite(bias)) throw InvalidArgument("logit_bias for token " + std::to_string(token) + " is not finite");
    }
    check_generate_params(params, prompt.size(), n_vocab);
    use_adapter(params.adapter, params.adapter_scale);
    TextStream stream(params.stop);

    GenerateResult result;
    Timings& tm = result.timings;
    tm.prompt_tokens = static_cast<int32_t>(prompt.size());

    // Prefix cache: keep the KV entries of the longest common prefix. At least one
    // prompt token is always evaluated, because sampling needs its logits. The gate
    // reads the logits at its position: evaluate from there at least.
    auto shared_prefix = [&](const std::vector<Token>& cache) {
        size_t n = 0;
        while (n < cache.size() && n < prompt.size() && cache[n] == prompt[n]) ++n;
        if (n == prompt.size()) --n;
        if (params.gate_position >= 0) n = std::min(n, static_cast<size_t>(params.gate_position));
        return n;
    };
    // The prefill model evaluates the prompt where it holds as much of it as this
    // context and the batch is big enough to gain: swapped in until the batch is done.
    struct PrefillSwap {
        Session& s;
        bool on = false;
        void swap() {
            std::swap(s.ctx_, s.prefill_ctx_);
            std::swap(s.cache_, s.prefill_cache_);
            on = !on;
        }
        ~PrefillSwap() {
            if (on) swap();
        }
    } prefill_swap{*this};
    size_t common = shared_prefix(cache_);
    if (prefill_ctx_ != nullptr && !active_adapter_) {
        const size_t there = shared_prefix(prefill_cache_);
        if (there >= common && prompt.size() - there >= kPrefillModelMinTokens) {
            prefill_swap.swap();
            common = there;
        }
    }
    if (common < cache_.size()) {
        if (!llama_memory_seq_rm(llama_get_memory(ctx_), 0, static_cast<llama_pos>(common), -1)) {
            reset();  // this memory cannot be cut mid-way: start over
            common = 0;
        } else {
            cache_.resize(common);
        }
    }
    tm.cached_tokens = static_cast<int32_t>(common);
    // The text a grammar forces at the very start (`[{"name": "` of a tool call, and of a
    // single tool its name) goes in the prompt's batch: one llama_decode less, and on a
    // CPU each costs ~a token's time.
    std::vector<Token> opening;
    std::string opening_bytes;
    Token held_back = -1;  // what the last forced run left to the model (a boundary draft)
    if (grammar != nullptr && params.jump_forward) {
        // room for it and one token more: prompt + opening + 1 < n_ctx
        const size_t ctx_room = ctx_size - prompt.size() < 2 ? 0 : ctx_size - prompt.size() - 2;
        size_t n_new = 0;
        opening_bytes = force_ahead(*grammar, opening, n_new, std::min<size_t>(params.max_tokens, ctx_room),
                                    tm.forced_tokens, held_back);
    }
    const auto t_prefill = Clock::now();
    const int64_t gate_at = params.gate_position < 0 ? -1 : params.gate_position - static_cast<int64_t>(common);
    std::vector<Token> batch(prompt.begin() + static_cast<std::ptrdiff_t>(common), prompt.end());
    batch.insert(batch.end(), opening.begin(), opening.end());
    // The mask of the step to come, filled once: it decides on sparse logits, then serves sampling.
    bool mask_filled = false;
    // A boundary draft (GenerateParams::boundary_draft) evaluated after the last batch and
    // not output yet, the logits of its row, and whether draft_mask_ holds the mask after it.
    Token draft = -1;
    float* after_draft = nullptr;
    bool draft_mask_filled = false;
    const bool drafts = grammar != nullptr && params.jump_forward && params.boundary_draft && cuttable_;
    // Evaluates `tokens` (and a boundary draft after them where one applies; `n_output`:
    // the output tokens once they are in) and returns the logits of the step to come,
    // computed for the allowed tokens only where they are few (sparse logits). A gate
    // needs a full row.
    auto evaluate = [&](std::vector<Token>& tokens, int64_t gate, size_t n_output) -> float* {
        const bool sparse_wanted = gate < 0 && grammar != nullptr && params.sparse_logits;
        draft = -1;
        if (drafts && n_output + 1 < static_cast<size_t>(params.max_tokens) &&
            cache_.size() + tokens.size() + 2 < ctx_size && tokens.size() % params_.n_batch != 0) {
            draft = boundary_draft(*grammar, held_back, sparse_wanted);
        }
        const size_t rows = draft >= 0 ? 2 : 1;
        if (draft >= 0) tokens.push_back(draft);
        mask_filled = sparse_wanted;
        draft_mask_filled = sparse_wanted && draft >= 0;
        if (mask_filled) grammar->fill_next_token_bitmask(mask_.data(), mask_.size());
        bool sparse = false;
        if (sparse_wanted && few_tokens_next(mask_, 0) && (draft < 0 || few_tokens_next(draft_mask_, 1))) {
            sparse = decode_few(tokens.data(), tokens.size(), rows);
        } else {
            const Token greedy = decode_tokens(tokens.data(), tokens.size(), gate, rows);
            if (gate >= 0) result.gate_token = greedy;
        }
        if (draft >= 0) {
            tokens.pop_back();
            ++tm.drafted_tokens;
        }
        tm.sparse_steps += sparse;
        if (sparse) {
            after_draft = draft >= 0 ? few_logits_[1].data() : nullptr;
            return few_logits_[0].data();
        }
        float* now = llama_get_logits_ith(ctx_, draft >= 0 ? -2 : -1);
        after_draft = draft >= 0 ? llama_get_logits_ith(ctx_, -1) : nullptr;
        if (now == nullptr || (draft >= 0 && after_draft == nullptr)) throw DecodeFailure("llama.cpp returned no logits");
        return now;
    };
    float* logits_next = evaluate(batch, gate_at, opening.size());
    if (prefill_swap.on) {  // the prefill model's logits stay readable until it decodes again
        prefill_swap.swap();
        copy_prefill_kv();
        tm.prefill_model = true;
    }
    tm.prefill_ms = ms_since(t_prefill);
    if (params.gate_position >= 0 && std::find(params.gate_tokens.begin(), params.gate_tokens.end(),
                                               result.gate_token) == params.gate_tokens.end()) {
        result.finish_reason = "gated";
        tm.forced_tokens = 0;  // the opening was evaluated, not output
        tm.total_ms = ms_since(t_start);
        return result;
    }

    Sampler sampler(n_vocab, params.sampling);
    result.finish_reason = "length";
    Clock::time_point t_first{};
    bool first = true;
    auto mark_first = [&] {
        if (!first) return;
        first = false;
        t_first = Clock::now();
        tm.ttft_ms = ms_since(t_start);
    };
    // Adds output bytes to the text stream and shows what is safe to show. Returns false
    // when generation must end (a stop string completed, or the callback cancelled).
    auto emit_text = [&](const std::string& bytes) {
        if (stream.append(bytes)) {
            result.finish_reason = "stop";
            result.stop_sequence = stream.stop_sequence();
            return false;
        }
        if (on_text) {
            std::string ready = stream.take_ready();
            if (!ready.empty() && !on_text(ready)) {
                result.finish_reason = "cancelled";
                return false;
            }
        }
        return true;
    };
    auto room = [&] { return static_cast<int32_t>(result.tokens.size()) < params.max_tokens; };

    bool done = false;
    if (!opening.empty()) {
        mark_first();
        result.tokens = opening;
        done = !emit_text(opening_bytes) || grammar->is_terminated() || !room();
    }
    // Each step samples a token from the logits of the last evaluated one; the bytes the
    // grammar then forces (jump-forward) go in the same batch as that token: one
    // llama_decode per step, and on a CPU each costs about a token's time.
    std::vector<Token> pending;
    while (!done) {
        float* logits = logits_next;
        for (const auto& [token, bias] : params.logit_bias) logits[token] += bias;
        const uint32_t* allowed = nullptr;
        if (grammar != nullptr) {
            if (!mask_filled) grammar->fill_next_token_bitmask(mask_.data(), mask_.size());
            mask_filled = false;
            allowed = mask_.data();
            if (params.end_bias != 0.0f && grammar->can_terminate()) {
                for (Token t : end_tokens_) logits[t] += params.end_bias;
            }
        }
        const Token tok = sampler.sample(logits, result.tokens.data(), result.tokens.size(), allowed);
        if (tok < 0) throw DecodeFailure("the grammar allows no token here (dead end)");
        // The model's pick decides a boundary draft: already evaluated when it is the same
        // token, dropped from the cache otherwise.
        const bool drafted = draft >= 0 && tok == draft;
        if (draft >= 0 && !drafted) drop_last();
        tm.accepted_drafts += drafted;
        draft = -1;
        mark_first();
        if (grammar != nullptr) {
            if (!grammar->accept_token(tok)) throw DecodeFailure("the grammar refused a token its own mask allowed");
            if (grammar->is_terminated()) {  // the end-of-generation token closed the grammar
                result.finish_reason = "eos";
                break;
            }
        } else if (!params.ignore_eos && model_->is_end_of_generation(tok)) {
            result.finish_reason = "eos";
            break;
        }
        result.tokens.push_back(tok);
        if (!emit_text(model_->token_bytes(tok))) break;
        size_t n_new = drafted ? 0 : 1;  // output tokens not evaluated yet: the sampled one and what is forced after it
        if (grammar != nullptr && params.jump_forward) {
            const std::string forced = force_ahead(*grammar, result.tokens, n_new,
                                                   static_cast<size_t>(params.max_tokens), tm.forced_tokens, held_back);
            if (!emit_text(forced)) break;
        }
        if (ends_in_repetition(result.tokens, params.stop_repeats)) {
            result.finish_reason = "repetition";
            break;
        }
        pending.assign(result.tokens.end() - static_cast<std::ptrdiff_t>(n_new), result.tokens.end());
        if (grammar != nullptr && !end_tokens_.empty() && grammar->must_terminate()) {
            // Only the end can follow: the tokens need not be evaluated to sample it.
            grammar->accept_token(end_tokens_.front());
            result.finish_reason = "eos";
            break;
        }
        if (!room()) break;  // no need to evaluate the last tokens
        if (pending.empty()) {  // a draft the model picked, nothing forced after it: its row is next
            logits_next = after_draft;
            if (draft_mask_filled) std::swap(mask_, draft_mask_);
            mask_filled = draft_mask_filled;
            continue;
        }
        if (cache_.size() + pending.size() + 1 >= ctx_size) {
            result.finish_reason = "context";
            break;
        }
        logits_next = evaluate(pending, -1, result.tokens.size());
    }
    tm.generated_tokens = static_cast<int32_t>(result.tokens.size());
    if (!first) tm.decode_ms = ms_since(t_first);
    std::string rest = stream.take_rest();
    if (on_text && !rest.empty() && result.finish_reason != "cancelled") on_text(rest);
    result.text = stream.text();
    tm.total_ms = ms_since(t_start);
    return result;
}

}  // namespace edgeagent
