// Where llama.cpp's log goes. By default it is kept quiet (only remembered, so that
// a failed load can quote llama.cpp's own reason); a sink can be installed to see it.
#pragma once

#include <functional>
#include <string>

namespace edgeagent {

enum class LogLevel : int { Debug = 0, Info = 1, Warn = 2, Error = 3 };

using LogSink = std::function<void(LogLevel, const std::string&)>;

// Installs `sink` for messages at `min_level` or above; an empty sink restores quiet mode.
void set_log_sink(LogSink sink, LogLevel min_level = LogLevel::Warn);

// Routes llama.cpp's log through edgeagent (called by every Model::load).
void install_llama_log_hook();

// The warnings and errors llama.cpp logged on this thread since the last call (then cleared).
std::string take_recent_llama_errors();

}  // namespace edgeagent
