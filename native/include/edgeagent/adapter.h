// A LoRA adapter in GGUF (llama.cpp's format, from convert_lora_to_gguf.py), loaded
// once over a base model and switched per request by a Session.
#pragma once

#include <memory>
#include <string>

struct llama_adapter_lora;

namespace edgeagent {

class Model;

class LoraAdapter {
public:
    // Loads `path` for `model`. Throws AdapterError naming the file and the reason:
    // missing, not GGUF, not a LoRA adapter, made for another architecture, or tensor
    // shapes that do not fit this base model.
    static std::shared_ptr<LoraAdapter> load(std::shared_ptr<Model> model, const std::string& path);
    ~LoraAdapter();
    LoraAdapter(const LoraAdapter&) = delete;
    LoraAdapter& operator=(const LoraAdapter&) = delete;

    const std::string& path() const { return path_; }
    const Model* model() const { return model_.get(); }
    // GGUF metadata value as a string; empty when the key is absent.
    std::string metadata(const std::string& key) const;
    float alpha() const;  // "adapter.lora.alpha" (0 when absent)

    llama_adapter_lora* raw() const { return adapter_; }

private:
    LoraAdapter() = default;
    std::shared_ptr<Model> model_;  // the adapter is valid only while its base model lives
    std::string path_;
    llama_adapter_lora* adapter_ = nullptr;
};

}  // namespace edgeagent
