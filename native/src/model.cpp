#include "edgeagent/model.h"

#include <llama.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sys/stat.h>

#include "edgeagent/errors.h"
#include "edgeagent/log.h"

namespace edgeagent {
namespace {

void init_backend_once() {
    static std::once_flag once;
    std::call_once(once, [] { llama_backend_init(); });
}

// Checks what we can cheaply check before llama.cpp sees the file, so that common
// mistakes get a precise message: missing, a directory, empty, or not GGUF at all.
void check_gguf_header(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw ModelFileError("model file not found: " + path);
    if (S_ISDIR(st.st_mode)) throw ModelFileError("model path is a directory, not a GGUF file: " + path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelFileError("model file cannot be read (permissions?): " + path);
    char header[8] = {0};
    in.read(header, sizeof header);
    if (in.gcount() < 8) {
        throw ModelFileError("model file is too short to be GGUF (" + std::to_string(st.st_size) +
                             " bytes): " + path);
    }
    if (std::memcmp(header, "GGUF", 4) != 0) {
        throw ModelFileError("not a GGUF file (bad magic bytes): " + path);
    }
    uint32_t version = 0;
    std::memcpy(&version, header + 4, 4);
    if (version < 2 || version > 3) {
        throw ModelFileError("unsupported GGUF version " + std::to_string(version) + " in " + path);
    }
}

}  // namespace

std::shared_ptr<Model> Model::load(const std::string& path, const ModelParams& params) {
    if (params.n_gpu_layers < 0) throw InvalidArgument("n_gpu_layers must be >= 0");
    init_backend_once();
    install_llama_log_hook();
    check_gguf_header(path);

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = params.n_gpu_layers;
    if (!params.use_mmap) mp.load_mode = LLAMA_LOAD_MODE_NONE;
    mp.vocab_only = params.vocab_only;
    take_recent_llama_errors();
    llama_model* raw = llama_model_load_from_file(path.c_str(), mp);
    if (raw == nullptr) {
        std::string why = take_recent_llama_errors();
        throw ModelFileError("cannot load model " + path + (why.empty() ? "" : ": " + why));
    }

    std::shared_ptr<Model> model(new Model());
    model->path_ = path;
    model->model_ = raw;
    model->vocab_only_ = params.vocab_only;
    model->vocab_ = llama_model_get_vocab(raw);

    // The byte string of every token, computed once: the grammar engine matches on it.
    const int32_t n = llama_vocab_n_tokens(model->vocab_);
    model->token_bytes_.resize(static_cast<size_t>(n));
    model->token_kinds_.resize(static_cast<size_t>(n));
    std::vector<char> buf(256);
    for (int32_t t = 0; t < n; ++t) {
        const auto attr = llama_vocab_get_attr(model->vocab_, t);
        uint8_t kind = TOKEN_NORMAL;
        if (attr & LLAMA_TOKEN_ATTR_CONTROL) kind = TOKEN_CONTROL;
        else if (attr & LLAMA_TOKEN_ATTR_BYTE) kind = TOKEN_BYTE;
        else if (attr & LLAMA_TOKEN_ATTR_UNUSED) kind = TOKEN_UNUSED;
        model->token_kinds_[t] = kind;
        if (kind == TOKEN_CONTROL || kind == TOKEN_UNUSED) continue;
        int32_t len = llama_token_to_piece(model->vocab_, t, buf.data(), static_cast<int32_t>(buf.size()), 0, false);
        if (len < 0) {
            buf.resize(static_cast<size_t>(-len));
            len = llama_token_to_piece(model->vocab_, t, buf.data(), static_cast<int32_t>(buf.size()), 0, false);
        }
        if (len > 0) model->token_bytes_[t].assign(buf.data(), static_cast<size_t>(len));
    }
    return model;
}

Model::~Model() {
    if (model_ != nullptr) llama_model_free(model_);
}

int32_t Model::n_ctx_train() const { return llama_model_n_ctx_train(model_); }
uint64_t Model::n_params() const { return llama_model_n_params(model_); }
uint64_t Model::size_bytes() const { return llama_model_size(model_); }

std::string Model::description() const {
    char buf[256];
    llama_model_desc(model_, buf, sizeof buf);
    return buf;
}

std::vector<Token> Model::tokenize(const std::string& text, bool add_special, bool parse_special) const {
    if (text.size() > static_cast<size_t>(INT32_MAX / 2)) throw InvalidArgument("text too long to tokenize");
    std::vector<Token> out(text.size() + 4);
    int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                               static_cast<int32_t>(out.size()), add_special, parse_special);
    if (n == INT32_MIN) throw InvalidArgument("text too long to tokenize");
    if (n < 0) {
        out.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                           static_cast<int32_t>(out.size()), add_special, parse_special);
    }
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string Model::detokenize(const std::vector<Token>& tokens, bool special) const {
    for (Token t : tokens) {
        if (t < 0 || t >= n_vocab()) {
            throw InvalidArgument("token id " + std::to_string(t) + " out of range [0, " + std::to_string(n_vocab()) + ")");
        }
    }
    std::string out(tokens.size() * 8 + 16, '\0');
    int32_t n = llama_detokenize(vocab_, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(),
                                 static_cast<int32_t>(out.size()), false, special);
    if (n < 0) {
        out.resize(static_cast<size_t>(-n));
        n = llama_detokenize(vocab_, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(),
                             static_cast<int32_t>(out.size()), false, special);
    }
    out.resize(static_cast<size_t>(n));
    return out;
}

bool Model::is_end_of_generation(Token t) const { return llama_vocab_is_eog(vocab_, t); }
Token Model::bos() const { return llama_vocab_bos(vocab_); }
Token Model::eos() const { return llama_vocab_eos(vocab_); }
bool Model::adds_bos() const { return llama_vocab_get_add_bos(vocab_); }

std::string Model::token_text(Token t) const {
    if (t < 0 || t >= n_vocab()) return {};
    const char* s = llama_vocab_get_text(vocab_, t);
    return s ? s : "";
}

std::string Model::metadata(const std::string& key) const {
    int32_t n = llama_model_meta_val_str(model_, key.c_str(), nullptr, 0);
    if (n < 0) return {};
    std::string out(static_cast<size_t>(n) + 1, '\0');
    llama_model_meta_val_str(model_, key.c_str(), out.data(), out.size());
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string Model::chat_template() const {
    const char* tmpl = llama_model_chat_template(model_, nullptr);
    return tmpl ? tmpl : "";
}

}  // namespace edgeagent
