#include "output_head.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ggml-cpu.h>
#include <ggml.h>
#include <gguf.h>

namespace edgeagent {

std::unique_ptr<OutputHead> OutputHead::open(const std::string& path, int64_t n_embd, int64_t n_vocab) {
    gguf_init_params gp{};
    gp.no_alloc = true;
    gp.ctx = nullptr;
    gguf_context* meta = gguf_init_from_file(path.c_str(), gp);
    if (meta == nullptr) return nullptr;
    int64_t id = gguf_find_tensor(meta, "output.weight");
    if (id < 0) id = gguf_find_tensor(meta, "token_embd.weight");
    std::unique_ptr<OutputHead> head;
    if (id >= 0) {
        const int64_t* ne = gguf_get_tensor_ne(meta, id);
        const ggml_type type = gguf_get_tensor_type(meta, id);
        ggml_cpu_init();
        const ggml_type_traits_cpu* traits = ggml_get_type_traits_cpu(type);
        const size_t offset = gguf_get_data_offset(meta) + gguf_get_tensor_offset(meta, id);
        const size_t size = gguf_get_tensor_size(meta, id);
        const bool usable = ne[0] == n_embd && ne[1] == n_vocab && ne[2] == 1 && ne[3] == 1 && traits != nullptr &&
                            traits->vec_dot != nullptr && ggml_row_size(type, n_embd) * n_vocab == size;
        const ggml_type_traits_cpu* hidden_traits = usable ? ggml_get_type_traits_cpu(traits->vec_dot_type) : nullptr;
        if (usable && (traits->vec_dot_type == GGML_TYPE_F32 || (hidden_traits && hidden_traits->from_float))) {
            const int fd = ::open(path.c_str(), O_RDONLY);
            struct stat st {};
            if (fd >= 0 && fstat(fd, &st) == 0 && offset + size <= static_cast<size_t>(st.st_size)) {
                void* map = mmap(nullptr, offset + size, PROT_READ, MAP_SHARED, fd, 0);
                if (map != MAP_FAILED) {
                    head.reset(new OutputHead());
                    head->map_ = map;
                    head->map_size_ = offset + size;
                    head->rows_ = static_cast<const uint8_t*>(map) + offset;
                    head->row_size_ = ggml_row_size(type, n_embd);
                    head->n_embd_ = n_embd;
                    head->traits_ = traits;
                    if (traits->vec_dot_type != GGML_TYPE_F32) {
                        head->hidden_traits_ = hidden_traits;
                        head->hidden_q_.resize(ggml_row_size(traits->vec_dot_type, n_embd));
                    }
                }
            }
            if (fd >= 0) ::close(fd);
        }
    }
    gguf_free(meta);
    return head;
}

OutputHead::~OutputHead() {
    if (map_ != nullptr) munmap(map_, map_size_);
}

void OutputHead::logits(const float* hidden, const int32_t* tokens, size_t n, float* out) {
    const void* h = hidden;
    if (hidden_traits_ != nullptr) {
        hidden_traits_->from_float(hidden, hidden_q_.data(), n_embd_);
        h = hidden_q_.data();
    }
    for (size_t i = 0; i < n; ++i) {
        const int32_t t = tokens[i];
        traits_->vec_dot(static_cast<int>(n_embd_), &out[t], 0, rows_ + static_cast<size_t>(t) * row_size_, 0, h, 0, 1);
    }
}

}  // namespace edgeagent
