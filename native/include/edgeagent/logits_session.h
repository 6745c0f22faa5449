// Generation over logits computed elsewhere (the ONNX Runtime backend): the caller runs
// the network and hands each step's logits here; this applies the same sampler,
// grammar mask, end bias, stop strings and end-of-generation rules as Session, and
// returns the next token to feed. The logits buffer is read and modified in place, not
// copied.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "edgeagent/model.h"
#include "edgeagent/sampler.h"
#include "edgeagent/session.h"

namespace edgeagent {

class GrammarMatcher;
class TextStream;

class LogitsSession {
public:
    // `vocab` gives tokens, their bytes and end-of-generation ids (a vocab-only model is
    // enough). `grammar` (optional, not owned) must be built on vocab's vocabulary and
    // outlive this object. The clock for timings starts here: construct it before prefill.
    // `cached_tokens`: how many prompt tokens the caller's own prefix cache reused (timings).
    LogitsSession(std::shared_ptr<Model> vocab, const GenerateParams& params, int32_t prompt_tokens,
                  GrammarMatcher* grammar = nullptr, int32_t cached_tokens = 0);
    ~LogitsSession();
    LogitsSession(const LogitsSession&) = delete;
    LogitsSession& operator=(const LogitsSession&) = delete;

    // Picks the next token from `logits` (`n` floats; n must equal the vocabulary size,
    // or exceed it only with padding rows that are never picked). Returns the token the
    // caller must feed to the network next, or -1 when generation is over (see
    // finish_reason()). The token is already accepted by the grammar.
    Token step(float* logits, size_t n);
    // With GenerateParams::gate_position: the logits at that prompt position, before
    // the first step. False (and done, finish "gated") when their greedy token is not
    // one of the gate tokens.
    bool pass_gate(const float* logits, size_t n);
    bool done() const { return done_; }
    // Text safe to show since the last call (complete UTF-8, no possible stop-string
    // start); once done, everything not yet taken.
    std::string take_text();
    // Ends the generation early (the caller's context is full, or it was cancelled).
    void stop(const std::string& reason);
    // The result once done (or after stop()); timings measured from construction.
    GenerateResult finish();

private:
    std::shared_ptr<Model> vocab_;
    GenerateParams params_;
    GrammarMatcher* grammar_;
    Sampler sampler_;
    std::unique_ptr<TextStream> stream_;
    std::vector<uint32_t> mask_;
    std::vector<Token> end_tokens_;
    GenerateResult result_;
    bool done_ = false;
    bool first_ = true;
    std::chrono::steady_clock::time_point t_start_, t_first_;
};

}  // namespace edgeagent
