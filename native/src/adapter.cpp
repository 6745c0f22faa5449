#include "edgeagent/adapter.h"

#include <llama.h>

#include <cstring>
#include <fstream>
#include <sys/stat.h>

#include "edgeagent/errors.h"
#include "edgeagent/log.h"
#include "edgeagent/model.h"

namespace edgeagent {

std::shared_ptr<LoraAdapter> LoraAdapter::load(std::shared_ptr<Model> model, const std::string& path) {
    if (!model) throw InvalidArgument("an adapter needs a base model");
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw AdapterError("adapter file not found: " + path);
    if (S_ISDIR(st.st_mode)) throw AdapterError("adapter path is a directory, not a GGUF file: " + path);
    {
        std::ifstream in(path, std::ios::binary);
        char magic[4] = {0};
        in.read(magic, 4);
        if (in.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0)
            throw AdapterError("not a GGUF file (bad magic bytes): " + path);
    }
    install_llama_log_hook();
    take_recent_llama_errors();
    llama_adapter_lora* raw = nullptr;
    try {
        raw = llama_adapter_lora_init(model->raw(), path.c_str());
    } catch (const std::exception& e) {
        throw AdapterError("cannot load adapter " + path + ": " + e.what());
    }
    if (raw == nullptr) {
        const std::string why = take_recent_llama_errors();
        throw AdapterError("cannot load adapter " + path + " for " + model->path() + (why.empty() ? "" : ": " + why));
    }
    std::shared_ptr<LoraAdapter> a(new LoraAdapter());
    a->model_ = std::move(model);
    a->path_ = path;
    a->adapter_ = raw;
    const std::string kind = a->metadata("adapter.type");
    if (!kind.empty() && kind != "lora") throw AdapterError("adapter " + path + " is of type '" + kind + "', not lora");
    const std::string arch = a->metadata("general.architecture");
    const std::string base_arch = a->model_->metadata("general.architecture");
    if (!arch.empty() && !base_arch.empty() && arch != base_arch) {
        throw AdapterError("adapter " + path + " was made for a '" + arch + "' model, the base is '" + base_arch + "'");
    }
    return a;
}

LoraAdapter::~LoraAdapter() {
    if (adapter_ != nullptr) llama_adapter_lora_free(adapter_);
}

std::string LoraAdapter::metadata(const std::string& key) const {
    int32_t n = llama_adapter_meta_val_str(adapter_, key.c_str(), nullptr, 0);
    if (n < 0) return {};
    std::string out(static_cast<size_t>(n) + 1, '\0');
    llama_adapter_meta_val_str(adapter_, key.c_str(), out.data(), out.size());
    out.resize(static_cast<size_t>(n));
    return out;
}

float LoraAdapter::alpha() const {
    const std::string v = metadata("adapter.lora.alpha");
    return v.empty() ? 0.0f : std::stof(v);
}

}  // namespace edgeagent
