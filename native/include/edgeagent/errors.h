// The typed errors of the native core. The pybind11 binding maps each class to the
// Python class of the same meaning in `edgeagent.errors`; the C API turns them into
// return codes plus a message (edgeagent_last_error). Messages name what was wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace edgeagent {

// Base of every error the core throws on purpose.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A parameter outside its allowed range (bad user input).
struct InvalidArgument : Error {
    using Error::Error;
};

// A model file that is missing, not GGUF, truncated or otherwise unloadable.
struct ModelFileError : Error {
    using Error::Error;
};

// A prompt that does not fit in the context window.
struct ContextOverflow : Error {
    using Error::Error;
};

// llama.cpp failed while decoding (out of KV slots, backend failure).
struct DecodeFailure : Error {
    using Error::Error;
};

// A LoRA adapter that cannot be used with this base model (file, type, shapes).
struct AdapterError : Error {
    using Error::Error;
};

}  // namespace edgeagent
