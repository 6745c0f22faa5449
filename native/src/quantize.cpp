#include "edgeagent/quantize.h"

#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>
#include <gguf.h>
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sys/stat.h>
#include <thread>

#include "edgeagent/errors.h"
#include "edgeagent/log.h"
#include "edgeagent/model.h"

namespace edgeagent {
namespace {

struct TypeName {
    const char* name;
    llama_ftype ftype;
};
// One table for names and llama.cpp file types; order: largest first.
const TypeName kTypes[] = {
    {"f16", LLAMA_FTYPE_MOSTLY_F16},       {"bf16", LLAMA_FTYPE_MOSTLY_BF16},
    {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"q6_k", LLAMA_FTYPE_MOSTLY_Q6_K},     {"q5_k_m", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},
    {"iq4_nl", LLAMA_FTYPE_MOSTLY_IQ4_NL},
};

llama_ftype ftype_of(const std::string& type) {
    for (const auto& t : kTypes)
        if (type == t.name) return t.ftype;
    std::string names;
    for (const auto& t : kTypes) names += std::string(names.empty() ? "" : ", ") + t.name;
    throw InvalidArgument("unknown quantization type '" + type + "' (supported: " + names + ")");
}

// Collects sum(x^2) per input column of every dense weight multiplication (like
// llama.cpp's imatrix tool, without its file format).
struct Collector {
    std::mutex mu;
    std::map<std::string, std::vector<double>> sums;
    std::map<std::string, int64_t> counts;

    static std::string weight_name(const ggml_tensor* w) {
        std::string name = w->name;
        const size_t hash = name.find('#');  // backends may suffix a copy's name
        if (hash != std::string::npos) name = name.substr(0, hash);
        return name;
    }

    static bool callback(ggml_tensor* t, bool ask, void* user) {
        auto* self = static_cast<Collector*>(user);
        const ggml_tensor* w = t->src[0];
        const ggml_tensor* x = t->src[1];
        if (ask) {
            if (t->op != GGML_OP_MUL_MAT || w == nullptr || x == nullptr) return false;
            if (x->type != GGML_TYPE_F32 || x->ne[1] < 16) return false;  // prompt batches only
            return weight_name(w).rfind("blk.", 0) == 0;
        }
        if (t->op != GGML_OP_MUL_MAT) return true;
        std::vector<char> host;
        const char* data = static_cast<const char*>(x->data);
        if (!ggml_backend_buffer_is_host(x->buffer)) {
            host.resize(ggml_nbytes(x));
            ggml_backend_tensor_get(x, host.data(), 0, host.size());
            data = host.data();
        }
        const std::string name = weight_name(w);
        const int64_t cols = x->ne[0];
        std::lock_guard<std::mutex> lock(self->mu);
        auto& s = self->sums[name];
        if (s.empty()) s.assign(static_cast<size_t>(cols), 0.0);
        if (static_cast<int64_t>(s.size()) != cols) return true;  // shape changed: ignore
        int64_t rows = 0;
        for (int64_t i3 = 0; i3 < x->ne[3]; ++i3)
            for (int64_t i2 = 0; i2 < x->ne[2]; ++i2)
                for (int64_t i1 = 0; i1 < x->ne[1]; ++i1) {
                    const float* row = reinterpret_cast<const float*>(data + i1 * x->nb[1] + i2 * x->nb[2] + i3 * x->nb[3]);
                    for (int64_t j = 0; j < cols; ++j) s[static_cast<size_t>(j)] += double(row[j]) * row[j];
                    ++rows;
                }
        self->counts[name] += rows;
        return true;
    }
};

}  // namespace

const std::vector<std::string>& quantize_types() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& t : kTypes) v.push_back(t.name);
        return v;
    }();
    return names;
}

bool cpu_has_avx512_bf16() { return ggml_cpu_has_avx512_bf16() != 0; }

namespace {
// The type of tensor `name` in the GGUF at `path`, GGML_TYPE_COUNT where it has none.
ggml_type tensor_type_in(const std::string& path, const char* name) {
    gguf_init_params gp{};
    gp.no_alloc = true;
    gguf_context* g = gguf_init_from_file(path.c_str(), gp);
    if (g == nullptr) throw ModelFileError("cannot read " + path + " as a GGUF file");
    const int64_t id = gguf_find_tensor(g, name);
    const ggml_type type = id < 0 ? GGML_TYPE_COUNT : gguf_get_tensor_type(g, id);
    gguf_free(g);
    return type;
}
}  // namespace

void quantize_model(const std::string& src, const std::string& dst, const QuantizeParams& params) {
    const llama_ftype ftype = ftype_of(params.type);
    struct stat st {};
    if (stat(src.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) throw InvalidArgument("source GGUF not found: " + src);
    if (dst.empty()) throw InvalidArgument("the output path is empty");
    if (params.n_threads < 0) throw InvalidArgument("n_threads must be >= 0");
    install_llama_log_hook();

    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.ftype = ftype;
    qp.nthread = params.n_threads > 0 ? params.n_threads : static_cast<int32_t>(std::thread::hardware_concurrency());
    if (params.from_quantized) {
        qp.allow_requantize = true;
        qp.output_tensor_type = tensor_type_in(src, "output.weight");  // a tensor of the same type is copied
        qp.token_embedding_type = tensor_type_in(src, "token_embd.weight");
    }
    std::vector<llama_model_imatrix_data> entries;
    if (params.imatrix != nullptr && !params.imatrix->empty()) {
        for (const auto& [name, values] : *params.imatrix) entries.push_back({name.c_str(), values.data(), values.size()});
        entries.push_back({nullptr, nullptr, 0});  // llama.cpp reads up to a null name
        qp.imatrix = entries.data();
    }
    take_recent_llama_errors();
    uint32_t rc = 0;
    try {
        rc = llama_model_quantize(src.c_str(), dst.c_str(), &qp);
    } catch (const std::exception& e) {  // llama.cpp's C API lets some exceptions through
        throw ModelFileError("cannot quantize " + src + " to " + params.type + ": " + e.what());
    }
    if (rc != 0) {
        const std::string why = take_recent_llama_errors();
        throw ModelFileError("cannot quantize " + src + " to " + params.type + (why.empty() ? "" : ": " + why));
    }
}

ImportanceMatrix compute_importance_matrix(const std::string& path, const std::vector<int32_t>& tokens,
                                           int32_t n_ctx, int32_t n_threads) {
    if (n_ctx < 16) throw InvalidArgument("the importance-matrix chunk must be >= 16 tokens");
    if (static_cast<int64_t>(tokens.size()) < n_ctx) {
        throw InvalidArgument("the calibration text has " + std::to_string(tokens.size()) +
                              " tokens; the importance matrix needs at least " + std::to_string(n_ctx));
    }
    auto model = Model::load(path);
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= model->n_vocab())
            throw InvalidArgument("calibration token " + std::to_string(i) + " is outside the vocabulary");
    Collector collector;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(n_ctx);
    cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(n_ctx);
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch =
        n_threads > 0 ? n_threads : static_cast<int32_t>(std::thread::hardware_concurrency());
    cp.cb_eval = &Collector::callback;
    cp.cb_eval_user_data = &collector;
    cp.no_perf = true;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    take_recent_llama_errors();
    llama_context* ctx = llama_init_from_model(model->raw(), cp);
    if (ctx == nullptr) throw ModelFileError("cannot create a context for " + path + ": " + take_recent_llama_errors());
    llama_batch batch = llama_batch_init(n_ctx, 0, 1);
    const size_t n_chunks = tokens.size() / static_cast<size_t>(n_ctx);
    for (size_t c = 0; c < n_chunks; ++c) {
        llama_memory_clear(llama_get_memory(ctx), true);
        batch.n_tokens = n_ctx;
        for (int32_t j = 0; j < n_ctx; ++j) {
            batch.token[j] = tokens[c * n_ctx + j];
            batch.pos[j] = j;
            batch.n_seq_id[j] = 1;
            batch.seq_id[j][0] = 0;
            batch.logits[j] = false;
        }
        batch.logits[n_ctx - 1] = true;
        if (llama_decode(ctx, batch) != 0) {
            llama_batch_free(batch);
            llama_free(ctx);
            throw DecodeFailure("llama_decode failed while computing the importance matrix");
        }
    }
    llama_batch_free(batch);
    llama_free(ctx);
    ImportanceMatrix out;
    for (const auto& [name, sums] : collector.sums) {
        const int64_t n = collector.counts[name];
        if (n <= 0) continue;
        std::vector<float> v(sums.size());
        for (size_t j = 0; j < sums.size(); ++j) v[j] = static_cast<float>(sums[j] / double(n));
        out.emplace(name, std::move(v));
    }
    if (out.empty()) throw DecodeFailure("no matrix multiplication was observed while computing the importance matrix");
    return out;
}

}  // namespace edgeagent
