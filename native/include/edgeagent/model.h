// A loaded GGUF model: weights (through llama.cpp) plus its vocabulary as byte strings.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct llama_model;
struct llama_vocab;

namespace edgeagent {

class Vocabulary;
using Token = int32_t;

struct ModelParams {
    int32_t n_gpu_layers = 0;  // this engine targets CPUs; >0 only if llama.cpp was built with a GPU backend
    bool use_mmap = true;
    // Tokenizer, chat template and metadata only, no weights: the vocabulary of a model
    // whose weights run elsewhere (the ONNX Runtime backend). Such a model has no Session.
    bool vocab_only = false;
};

// Token attributes we care about (a subset of llama_token_attr, stable for our callers).
enum TokenAttr : uint8_t {
    TOKEN_NORMAL = 0,
    TOKEN_CONTROL = 1,  // special / control tokens: never part of plain text
    TOKEN_BYTE = 2,     // byte-fallback token (<0xNN>): its bytes hold the single raw byte
    TOKEN_UNUSED = 3,
};

class Model {
public:
    // Loads `path`. Throws ModelFileError naming the file and the reason.
    static std::shared_ptr<Model> load(const std::string& path, const ModelParams& params = {});
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const std::string& path() const { return path_; }
    int32_t n_vocab() const { return static_cast<int32_t>(token_bytes_.size()); }
    int32_t n_ctx_train() const;
    uint64_t n_params() const;
    uint64_t size_bytes() const;
    std::string description() const;

    // Text → tokens. `add_special` adds BOS when the model asks for it; `parse_special`
    // turns special-token text such as "<|im_start|>" into the special token.
    std::vector<Token> tokenize(const std::string& text, bool add_special, bool parse_special) const;
    // Tokens → bytes (special tokens rendered when `special`). Bytes may be partial UTF-8.
    std::string detokenize(const std::vector<Token>& tokens, bool special) const;

    // The exact bytes a token contributes to the output (empty for control tokens).
    const std::string& token_bytes(Token t) const { return token_bytes_.at(static_cast<size_t>(t)); }
    const std::vector<std::string>& all_token_bytes() const { return token_bytes_; }
    const std::vector<uint8_t>& token_kinds() const { return token_kinds_; }
    bool is_end_of_generation(Token t) const;
    Token bos() const;
    Token eos() const;
    bool adds_bos() const;
    // The text of a token as written in the vocabulary (e.g. "<|im_end|>").
    std::string token_text(Token t) const;

    // GGUF metadata value as a string; empty when the key is absent.
    std::string metadata(const std::string& key) const;
    // The default chat template stored in the GGUF; empty when there is none.
    std::string chat_template() const;

    // The vocabulary as the grammar engine sees it (token bytes, kinds, end tokens),
    // built on first use and shared by every grammar compiled for this model.
    std::shared_ptr<const Vocabulary> grammar_vocabulary() const;

    bool vocab_only() const { return vocab_only_; }
    llama_model* raw() const { return model_; }
    const llama_vocab* vocab() const { return vocab_; }

private:
    Model() = default;
    std::string path_;
    llama_model* model_ = nullptr;
    const llama_vocab* vocab_ = nullptr;
    std::vector<std::string> token_bytes_;
    std::vector<uint8_t> token_kinds_;
    bool vocab_only_ = false;
    mutable std::once_flag vocab_once_;
    mutable std::shared_ptr<const Vocabulary> grammar_vocab_;
};

}  // namespace edgeagent
