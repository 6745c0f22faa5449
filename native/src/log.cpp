#include "edgeagent/log.h"

#include <llama.h>

#include <mutex>

namespace edgeagent {
namespace {

std::mutex g_mutex;
LogSink g_sink;
LogLevel g_min_level = LogLevel::Warn;
thread_local std::string t_recent;  // llama.cpp logs from the thread that calls it
thread_local ggml_log_level t_last_level = GGML_LOG_LEVEL_NONE;

LogLevel to_level(ggml_log_level level) {
    switch (level) {
        case GGML_LOG_LEVEL_ERROR: return LogLevel::Error;
        case GGML_LOG_LEVEL_WARN: return LogLevel::Warn;
        case GGML_LOG_LEVEL_INFO: return LogLevel::Info;
        default: return LogLevel::Debug;
    }
}

void llama_log_hook(ggml_log_level level, const char* text, void*) {
    if (text == nullptr) return;
    // CONT continues the previous message at its level.
    if (level == GGML_LOG_LEVEL_CONT) level = t_last_level;
    t_last_level = level;
    if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) {
        if (t_recent.size() < 4096) t_recent += text;
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_sink && to_level(level) >= g_min_level) g_sink(to_level(level), text);
}

}  // namespace

void set_log_sink(LogSink sink, LogLevel min_level) {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_sink = std::move(sink);
    g_min_level = min_level;
}

void install_llama_log_hook() {
    // Set again on every load: another llama.cpp user in the process (llama-cpp-python)
    // may have replaced the process-wide hook since.
    llama_log_set(llama_log_hook, nullptr);
}

std::string take_recent_llama_errors() {
    std::string out;
    out.swap(t_recent);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

}  // namespace edgeagent
