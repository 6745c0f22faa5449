// The flat C API over the C++ core: converts exceptions into status codes and a
// per-thread error message, so that no C++ exception crosses the boundary.
#include "edgeagent.h"

#include <climits>
#include <cstring>
#include <new>

#include "edgeagent/errors.h"
#include "edgeagent/grammar.h"
#include "edgeagent/guard.h"
#include "edgeagent/log.h"
#include "edgeagent/model.h"
#include "edgeagent/quantize.h"
#include "edgeagent/session.h"

struct edgeagent_model {
    std::shared_ptr<edgeagent::Model> model;
};
struct edgeagent_guard {
    edgeagent::GuardMonitor monitor;
};
struct edgeagent_session {
    std::unique_ptr<edgeagent::Session> session;
    std::string last_text;
};

namespace {

thread_local std::string t_error;

template <typename F>
edgeagent_status guarded(F&& body) {
    try {
        t_error.clear();
        body();
        return EDGEAGENT_OK;
    } catch (const edgeagent::InvalidArgument& e) {
        t_error = e.what();
        return EDGEAGENT_ERR_INVALID_ARGUMENT;
    } catch (const edgeagent::ModelFileError& e) {
        t_error = e.what();
        return EDGEAGENT_ERR_MODEL_FILE;
    } catch (const edgeagent::ContextOverflow& e) {
        t_error = e.what();
        return EDGEAGENT_ERR_CONTEXT_OVERFLOW;
    } catch (const edgeagent::DecodeFailure& e) {
        t_error = e.what();
        return EDGEAGENT_ERR_DECODE;
    } catch (const edgeagent::GuardPolicyError& e) {
        t_error = e.what();
        return EDGEAGENT_ERR_POLICY;
    } catch (const edgeagent::GrammarError& e) {  // malformed JSON given to the guard
        t_error = e.what();
        return EDGEAGENT_ERR_INVALID_ARGUMENT;
    } catch (const std::exception& e) {
        t_error = e.what();
        return EDGEAGENT_ERR_INTERNAL;
    } catch (...) {
        t_error = "unknown error";
        return EDGEAGENT_ERR_INTERNAL;
    }
}

// Copies a caller's params struct that may be older (smaller) than ours.
template <typename T>
T read_params(const T* given, T defaults) {
    if (given == nullptr) return defaults;
    if (given->size < sizeof(size_t) || given->size > sizeof(T)) {
        throw edgeagent::InvalidArgument("params struct has an invalid size field");
    }
    std::memcpy(&defaults, given, given->size);
    defaults.size = sizeof(T);
    return defaults;
}

}  // namespace

extern "C" {

void edgeagent_log_set(edgeagent_log_callback cb, edgeagent_log_level min_level, void* user_data) {
    if (cb == nullptr) {
        edgeagent::set_log_sink(nullptr);
        return;
    }
    edgeagent::set_log_sink(
        [cb, user_data](edgeagent::LogLevel level, const std::string& text) {
            cb(static_cast<edgeagent_log_level>(level), text.c_str(), user_data);
        },
        static_cast<edgeagent::LogLevel>(min_level));
}

const char* edgeagent_last_error(void) { return t_error.c_str(); }

edgeagent_model_params edgeagent_model_default_params(void) {
    edgeagent_model_params p{};
    p.size = sizeof p;
    p.n_gpu_layers = 0;
    p.use_mmap = true;
    return p;
}

edgeagent_status edgeagent_model_load(const char* path, const edgeagent_model_params* params, edgeagent_model** out) {
    return guarded([&] {
        if (path == nullptr || out == nullptr) throw edgeagent::InvalidArgument("path and out must not be NULL");
        *out = nullptr;
        const auto p = read_params(params, edgeagent_model_default_params());
        edgeagent::ModelParams mp;
        mp.n_gpu_layers = p.n_gpu_layers;
        mp.use_mmap = p.use_mmap;
        auto handle = std::make_unique<edgeagent_model>();
        handle->model = edgeagent::Model::load(path, mp);
        *out = handle.release();
    });
}

void edgeagent_model_free(edgeagent_model* model) { delete model; }

int32_t edgeagent_model_n_vocab(const edgeagent_model* model) { return model ? model->model->n_vocab() : 0; }

int32_t edgeagent_model_tokenize(const edgeagent_model* model, const char* text, bool add_special, bool parse_special,
                                 int32_t* tokens, int32_t n_max) {
    int32_t result = INT32_MIN;
    guarded([&] {
        if (model == nullptr || text == nullptr) throw edgeagent::InvalidArgument("model and text must not be NULL");
        const auto toks = model->model->tokenize(text, add_special, parse_special);
        const auto n = static_cast<int32_t>(toks.size());
        if (n > n_max || tokens == nullptr) {
            result = -n;
            return;
        }
        std::memcpy(tokens, toks.data(), toks.size() * sizeof(int32_t));
        result = n;
    });
    return result;
}

edgeagent_session_params edgeagent_session_default_params(void) {
    edgeagent_session_params p{};
    const edgeagent::SessionParams d;
    p.size = sizeof p;
    p.n_ctx = d.n_ctx;
    p.n_threads = d.n_threads;
    p.n_batch = d.n_batch;
    return p;
}

edgeagent_status edgeagent_session_create(edgeagent_model* model, const edgeagent_session_params* params,
                                          edgeagent_session** out) {
    return guarded([&] {
        if (model == nullptr || out == nullptr) throw edgeagent::InvalidArgument("model and out must not be NULL");
        *out = nullptr;
        const auto p = read_params(params, edgeagent_session_default_params());
        edgeagent::SessionParams sp;
        sp.n_ctx = p.n_ctx;
        sp.n_threads = p.n_threads;
        sp.n_batch = p.n_batch;
        auto handle = std::make_unique<edgeagent_session>();
        handle->session = std::make_unique<edgeagent::Session>(model->model, sp);
        *out = handle.release();
    });
}

void edgeagent_session_free(edgeagent_session* session) { delete session; }

edgeagent_status edgeagent_session_set_prefill_model(edgeagent_session* session, edgeagent_model* prefill) {
    return guarded([&] {
        if (session == nullptr) throw edgeagent::InvalidArgument("session must not be NULL");
        session->session->set_prefill_model(prefill != nullptr ? prefill->model : nullptr);
    });
}

edgeagent_generate_params edgeagent_generate_default_params(void) {
    edgeagent_generate_params p{};
    const edgeagent::GenerateParams d;
    p.size = sizeof p;
    p.max_tokens = d.max_tokens;
    p.temperature = d.sampling.temperature;
    p.top_k = d.sampling.top_k;
    p.top_p = d.sampling.top_p;
    p.min_p = d.sampling.min_p;
    p.seed = d.sampling.seed;
    p.stop = nullptr;
    p.n_stop = 0;
    return p;
}

edgeagent_status edgeagent_session_generate(edgeagent_session* session, const char* prompt,
                                            const edgeagent_generate_params* params, edgeagent_text_callback on_text,
                                            void* user_data, edgeagent_result* out) {
    return guarded([&] {
        if (session == nullptr || prompt == nullptr || out == nullptr)
            throw edgeagent::InvalidArgument("session, prompt and out must not be NULL");
        const auto p = read_params(params, edgeagent_generate_default_params());
        edgeagent::GenerateParams gp;
        gp.max_tokens = p.max_tokens;
        gp.sampling.temperature = p.temperature;
        gp.sampling.top_k = p.top_k;
        gp.sampling.top_p = p.top_p;
        gp.sampling.min_p = p.min_p;
        gp.sampling.seed = p.seed;
        if (p.n_stop > 0 && p.stop == nullptr) throw edgeagent::InvalidArgument("n_stop > 0 but stop is NULL");
        for (size_t i = 0; i < p.n_stop; ++i) {
            if (p.stop[i] == nullptr) throw edgeagent::InvalidArgument("stop[" + std::to_string(i) + "] is NULL");
            gp.stop.emplace_back(p.stop[i]);
        }
        const auto& model = session->session->model();
        const auto tokens = model->tokenize(prompt, true, true);
        edgeagent::TokenCallback cb;
        if (on_text != nullptr) {
            cb = [on_text, user_data](const std::string& t) { return on_text(t.data(), t.size(), user_data); };
        }
        auto r = session->session->generate(tokens, gp, cb);
        session->last_text = std::move(r.text);
        static const char* const reasons[] = {"stop", "eos", "length", "context", "cancelled"};
        out->finish_reason = "length";
        for (const char* reason : reasons)
            if (r.finish_reason == reason) out->finish_reason = reason;
        out->text = session->last_text.c_str();
        out->prompt_tokens = r.timings.prompt_tokens;
        out->cached_tokens = r.timings.cached_tokens;
        out->generated_tokens = r.timings.generated_tokens;
        out->prefill_tok_s = r.timings.prefill_tok_s();
        out->decode_tok_s = r.timings.decode_tok_s();
        out->ttft_ms = r.timings.ttft_ms;
    });
}

}  // extern "C"

// ---- guards ----
namespace {

std::vector<edgeagent::GuardToolInfo> read_tools(const char* tools_json) {
    edgeagent::Json list = edgeagent::parse_json(tools_json);
    if (!list.is_array()) throw edgeagent::InvalidArgument("tools_json must be a JSON list");
    std::vector<edgeagent::GuardToolInfo> tools;
    for (const auto& item : list.items()) {
        edgeagent::GuardToolInfo info;
        if (item.is_string()) {
            info.name = item.str();
        } else if (item.is_object() && item.find("name") != nullptr && item.find("name")->is_string()) {
            info.name = item.find("name")->str();
            if (const auto* params = item.find("parameters")) info.schema_json = params->dump();
            if (const auto* tags = item.find("tags")) {
                if (!tags->is_array()) throw edgeagent::InvalidArgument("tools_json: \"tags\" must be a list");
                for (const auto& t : tags->items()) {
                    if (!t.is_string()) throw edgeagent::InvalidArgument("tools_json: tags must be strings");
                    info.tags.push_back(t.str());
                }
            }
        } else {
            throw edgeagent::InvalidArgument("tools_json: each tool is a name or an object with a \"name\"");
        }
        tools.push_back(std::move(info));
    }
    return tools;
}

void fill_verdict(const edgeagent_guard* g, edgeagent::GuardVerdict v, edgeagent_guard_verdict* out) {
    if (out == nullptr) return;
    out->action = static_cast<edgeagent_guard_action>(v.action);
    out->rule = v.rule;
    if (v.rule >= 0) {
        const auto& r = g->monitor.policy().rules()[static_cast<size_t>(v.rule)];
        out->rule_name = r.name.c_str();
        out->reason = r.reason.c_str();
    } else {
        out->rule_name = nullptr;
        out->reason = "";
    }
}

// Runs `body` with the event as a GuardEvent view (parsing its JSON value).
template <typename F>
void with_event(const edgeagent_guard_event* event, F&& body) {
    if (event == nullptr) throw edgeagent::InvalidArgument("event is NULL");
    if (event->kind < EDGEAGENT_GUARD_USER || event->kind > EDGEAGENT_GUARD_CUSTOM)
        throw edgeagent::InvalidArgument("event kind out of range");
    edgeagent::GuardEvent e;
    e.kind = static_cast<edgeagent::GuardEventKind>(event->kind);
    e.name = event->name ? event->name : "";
    e.text = event->text ? event->text : "";
    bool named = event->kind == EDGEAGENT_GUARD_CALL || event->kind == EDGEAGENT_GUARD_RESULT ||
                 event->kind == EDGEAGENT_GUARD_CUSTOM;
    if (named && e.name.empty()) throw edgeagent::InvalidArgument("a call, result or custom event needs a name");
    edgeagent::Json value;
    if (event->value_json != nullptr) {
        value = edgeagent::parse_json(event->value_json);
        e.value = &value;
    }
    if (event->kind == EDGEAGENT_GUARD_CALL && e.value != nullptr && !value.is_object())
        throw edgeagent::InvalidArgument("a call's value_json must be a JSON object (the arguments)");
    body(e);
}

}  // namespace

extern "C" {

edgeagent_status edgeagent_guard_create(const char* policy, const char* source, const char* tools_json,
                                        edgeagent_guard** out) {
    return guarded([&] {
        if (policy == nullptr || out == nullptr) throw edgeagent::InvalidArgument("policy and out must not be NULL");
        *out = nullptr;
        std::vector<edgeagent::GuardToolInfo> tools;
        if (tools_json != nullptr) tools = read_tools(tools_json);
        auto compiled = edgeagent::GuardPolicy::parse(policy, source ? source : "<policy>",
                                                      tools_json != nullptr ? &tools : nullptr);
        *out = new edgeagent_guard{edgeagent::GuardMonitor(compiled)};
    });
}

void edgeagent_guard_free(edgeagent_guard* guard) { delete guard; }

void edgeagent_guard_reset(edgeagent_guard* guard) {
    if (guard == nullptr) return;
    try {
        guard->monitor.reset();
    } catch (...) {  // out of memory: keep the old trace rather than let an exception cross
        t_error = "out of memory resetting the guard";
    }
}

edgeagent_status edgeagent_guard_check(edgeagent_guard* guard, const edgeagent_guard_event* event,
                                       edgeagent_guard_verdict* out) {
    return guarded([&] {
        if (guard == nullptr || out == nullptr) throw edgeagent::InvalidArgument("guard and out must not be NULL");
        with_event(event, [&](const edgeagent::GuardEvent& e) { fill_verdict(guard, guard->monitor.check(e), out); });
    });
}

edgeagent_status edgeagent_guard_step(edgeagent_guard* guard, const edgeagent_guard_event* event,
                                      edgeagent_guard_verdict* out) {
    return guarded([&] {
        if (guard == nullptr) throw edgeagent::InvalidArgument("guard must not be NULL");
        with_event(event, [&](const edgeagent::GuardEvent& e) { fill_verdict(guard, guard->monitor.step(e), out); });
    });
}

int32_t edgeagent_guard_check_final(edgeagent_guard* guard, edgeagent_guard_verdict* out, int32_t n_max) {
    if (guard == nullptr) return 0;
    std::vector<edgeagent::GuardVerdict> verdicts;
    try {
        guard->monitor.check_final(verdicts);
    } catch (...) {
        return 0;
    }
    for (int32_t i = 0; i < n_max && out != nullptr && static_cast<size_t>(i) < verdicts.size(); ++i)
        fill_verdict(guard, verdicts[static_cast<size_t>(i)], &out[i]);
    return static_cast<int32_t>(verdicts.size());
}

edgeagent_status edgeagent_guard_allowed_tools(edgeagent_guard* guard, const char* const* names, size_t n,
                                               edgeagent_tool_allowance* out) {
    return guarded([&] {
        if (guard == nullptr || (n > 0 && (names == nullptr || out == nullptr)))
            throw edgeagent::InvalidArgument("guard, names and out must not be NULL");
        for (size_t i = 0; i < n; ++i) {
            if (names[i] == nullptr) throw edgeagent::InvalidArgument("tool name " + std::to_string(i) + " is NULL");
            out[i] = static_cast<edgeagent_tool_allowance>(guard->monitor.allowed_tool(names[i]));
        }
    });
}

}  // extern "C"
edgeagent_quantize_params edgeagent_quantize_default_params(void) {
    edgeagent_quantize_params p{};
    p.size = sizeof(p);
    p.type = "q4_k_m";
    p.n_threads = 0;
    return p;
}

edgeagent_status edgeagent_model_quantize(const char* src, const char* dst, const edgeagent_quantize_params* params) {
    return guarded([&] {
        if (src == nullptr || dst == nullptr) throw edgeagent::InvalidArgument("src and dst must not be NULL");
        const edgeagent_quantize_params p = read_params(params, edgeagent_quantize_default_params());
        edgeagent::QuantizeParams qp;
        if (p.type == nullptr) throw edgeagent::InvalidArgument("params.type must not be NULL");
        qp.type = p.type;
        qp.n_threads = p.n_threads;
        edgeagent::quantize_model(src, dst, qp);
    });
}
