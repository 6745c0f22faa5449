/*
 * edgeagent C API: embed the engine from C (or any language with a C FFI).
 *
 * Conventions (after llama.h):
 *  - Opaque handles with explicit create/free pairs. Whoever creates a handle frees it.
 *  - Functions that can fail return an edgeagent_status; on failure,
 *    edgeagent_last_error() holds a message naming what was wrong (per thread, valid
 *    until the next edgeagent call on that thread).
 *  - *_default_params() structs carry a `size` field set to sizeof(struct): a caller
 *    compiled against an older, smaller struct keeps working.
 *  - No C++ exception crosses this boundary.
 */
#ifndef EDGEAGENT_H
#define EDGEAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define EDGEAGENT_API __declspec(dllexport)
#else
#define EDGEAGENT_API __attribute__((visibility("default")))
#endif

typedef enum edgeagent_status {
    EDGEAGENT_OK = 0,
    EDGEAGENT_ERR_INVALID_ARGUMENT = 1, /* a parameter out of range, a NULL handle */
    EDGEAGENT_ERR_MODEL_FILE = 2,       /* missing, not GGUF, truncated, unloadable */
    EDGEAGENT_ERR_CONTEXT_OVERFLOW = 3, /* the prompt does not fit in the context */
    EDGEAGENT_ERR_DECODE = 4,           /* llama.cpp failed while decoding */
    EDGEAGENT_ERR_INTERNAL = 5,         /* anything else (out of memory, ...) */
    EDGEAGENT_ERR_POLICY = 6            /* a guard policy that does not compile ("file:line:col: message") */
} edgeagent_status;

typedef struct edgeagent_model edgeagent_model;     /* a loaded GGUF model */
typedef struct edgeagent_session edgeagent_session; /* a context + KV prefix cache */

/* Log levels for the callback; by default llama.cpp's log is kept quiet. */
typedef enum edgeagent_log_level {
    EDGEAGENT_LOG_DEBUG = 0,
    EDGEAGENT_LOG_INFO = 1,
    EDGEAGENT_LOG_WARN = 2,
    EDGEAGENT_LOG_ERROR = 3
} edgeagent_log_level;
typedef void (*edgeagent_log_callback)(edgeagent_log_level level, const char* text, void* user_data);

/* Installs `cb` for messages at `min_level` or above; NULL restores quiet mode. */
EDGEAGENT_API void edgeagent_log_set(edgeagent_log_callback cb, edgeagent_log_level min_level, void* user_data);

/* The message of the last failed call on this thread ("" if none). Owned by the library. */
EDGEAGENT_API const char* edgeagent_last_error(void);

/* ---- model ---- */
typedef struct edgeagent_model_params {
    size_t size; /* sizeof(edgeagent_model_params) */
    int32_t n_gpu_layers;
    bool use_mmap;
} edgeagent_model_params;

EDGEAGENT_API edgeagent_model_params edgeagent_model_default_params(void);

/* Loads a GGUF file. On success *out owns the model: free it with edgeagent_model_free
 * after every session created from it has been freed. params may be NULL (defaults). */
EDGEAGENT_API edgeagent_status edgeagent_model_load(const char* path, const edgeagent_model_params* params,
                                                    edgeagent_model** out);
EDGEAGENT_API void edgeagent_model_free(edgeagent_model* model);

EDGEAGENT_API int32_t edgeagent_model_n_vocab(const edgeagent_model* model);

/* Tokenizes `text` into `tokens` (capacity `n_max`). Returns the number of tokens, or
 * the negated number needed when `n_max` is too small, or INT32_MIN on error. */
EDGEAGENT_API int32_t edgeagent_model_tokenize(const edgeagent_model* model, const char* text, bool add_special,
                                               bool parse_special, int32_t* tokens, int32_t n_max);

/* ---- session ---- */
typedef struct edgeagent_session_params {
    size_t size; /* sizeof(edgeagent_session_params) */
    uint32_t n_ctx;
    int32_t n_threads; /* 0: all hardware threads */
    uint32_t n_batch;
} edgeagent_session_params;

EDGEAGENT_API edgeagent_session_params edgeagent_session_default_params(void);

/* Creates a session over `model` (which must outlive it). Free with edgeagent_session_free. */
EDGEAGENT_API edgeagent_status edgeagent_session_create(edgeagent_model* model, const edgeagent_session_params* params,
                                                        edgeagent_session** out);
EDGEAGENT_API void edgeagent_session_free(edgeagent_session* session);

/* Gives the session a prefill model: a copy of its model stored in another type (e.g.
 * BF16 on a CPU with AVX512_BF16) that evaluates prompts, its KV entries then copied into
 * the session, which samples. `prefill` must outlive the session (or the next call);
 * NULL removes it. EDGEAGENT_ERR_INVALID_ARGUMENT when it is no copy of the model. */
EDGEAGENT_API edgeagent_status edgeagent_session_set_prefill_model(edgeagent_session* session,
                                                                   edgeagent_model* prefill);

typedef struct edgeagent_generate_params {
    size_t size; /* sizeof(edgeagent_generate_params) */
    int32_t max_tokens;
    float temperature; /* 0: greedy */
    int32_t top_k;
    float top_p;
    float min_p;
    uint64_t seed;
    const char* const* stop; /* `n_stop` NUL-terminated stop strings (may be NULL) */
    size_t n_stop;
} edgeagent_generate_params;

EDGEAGENT_API edgeagent_generate_params edgeagent_generate_default_params(void);

/* Receives text as it becomes safe to show (UTF-8). Return false to stop generating. */
typedef bool (*edgeagent_text_callback)(const char* text, size_t len, void* user_data);

typedef struct edgeagent_result {
    const char* text;          /* generated text, NUL-terminated; owned by the session,
                                  valid until its next generate call or its free */
    const char* finish_reason; /* "stop", "eos", "length", "context", "cancelled" (static) */
    int32_t prompt_tokens;
    int32_t cached_tokens;
    int32_t generated_tokens;
    double prefill_tok_s;
    double decode_tok_s;
    double ttft_ms;
} edgeagent_result;

/* Generates from a text prompt (tokenized with the model's special tokens parsed).
 * `on_text` may be NULL. On success fills *out. */
EDGEAGENT_API edgeagent_status edgeagent_session_generate(edgeagent_session* session, const char* prompt,
                                                          const edgeagent_generate_params* params,
                                                          edgeagent_text_callback on_text, void* user_data,
                                                          edgeagent_result* out);

/* ---- behaviour guards (policy language: README "Behaviour guards") ---- */
typedef struct edgeagent_guard edgeagent_guard; /* a compiled policy + the monitor of one conversation */

typedef enum edgeagent_guard_event_kind {
    EDGEAGENT_GUARD_USER = 0,
    EDGEAGENT_GUARD_CALL = 1,   /* name: the tool; value_json: the arguments (a JSON object) */
    EDGEAGENT_GUARD_RESULT = 2, /* name: the tool; value_json: the result (any JSON) */
    EDGEAGENT_GUARD_TEXT = 3,
    EDGEAGENT_GUARD_FINAL = 4,
    EDGEAGENT_GUARD_CUSTOM = 5  /* name: the custom event kind, e.g. "thought" */
} edgeagent_guard_event_kind;

typedef enum edgeagent_guard_action {
    EDGEAGENT_GUARD_ALLOW = 0,
    EDGEAGENT_GUARD_CONFIRM = 1,
    EDGEAGENT_GUARD_DENY = 2,
    EDGEAGENT_GUARD_STOP = 3
} edgeagent_guard_action;

typedef enum edgeagent_tool_allowance {
    EDGEAGENT_TOOL_ALLOWED = 0, /* no deny/stop rule can fire, whatever the arguments */
    EDGEAGENT_TOOL_DENIED = 1,  /* a deny/stop rule fires whatever the arguments */
    EDGEAGENT_TOOL_DEPENDS = 2  /* it depends on the arguments */
} edgeagent_tool_allowance;

typedef struct edgeagent_guard_event {
    edgeagent_guard_event_kind kind;
    const char* name;       /* CALL/RESULT: tool; CUSTOM: kind; else NULL */
    const char* value_json; /* CALL/RESULT: JSON text; NULL = no value */
    const char* text;       /* USER/TEXT/FINAL/CUSTOM: the text (NULL = "") */
} edgeagent_guard_event;

typedef struct edgeagent_guard_verdict {
    edgeagent_guard_action action;
    int32_t rule;          /* index of the rule that decided, -1 when allowed */
    const char* rule_name; /* NULL when allowed; owned by the guard, valid until it is freed */
    const char* reason;    /* "" when allowed; owned by the guard, valid until it is freed */
} edgeagent_guard_verdict;

/* Compiles `policy` (UTF-8 text; `source` names it in error messages, may be NULL).
 * `tools_json` may be NULL or a JSON list of tool names or of objects
 * {"name": ..., "parameters": {JSON Schema}, "tags": [...]}: then unknown tools and
 * arguments and type mismatches are errors (EDGEAGENT_ERR_POLICY, message
 * "source:line:col: ..."). On success *out owns the guard: free it with edgeagent_guard_free. */
EDGEAGENT_API edgeagent_status edgeagent_guard_create(const char* policy, const char* source, const char* tools_json,
                                                      edgeagent_guard** out);
EDGEAGENT_API void edgeagent_guard_free(edgeagent_guard* guard);
/* Forgets the trace (a new conversation). */
EDGEAGENT_API void edgeagent_guard_reset(edgeagent_guard* guard);
/* The verdict `event` would get as the next event; the trace is unchanged. (Not const:
 * the guard computes into scratch space; one guard per thread.) */
EDGEAGENT_API edgeagent_status edgeagent_guard_check(edgeagent_guard* guard, const edgeagent_guard_event* event,
                                                     edgeagent_guard_verdict* out);
/* Appends `event` to the trace; *out (may be NULL) gets the verdict it had. */
EDGEAGENT_API edgeagent_status edgeagent_guard_step(edgeagent_guard* guard, const edgeagent_guard_event* event,
                                                    edgeagent_guard_verdict* out);
/* Obligations (`require` rules) the current turn violates if it ends now: writes up to
 * `n_max` verdicts to `out` and returns how many are violated (may exceed n_max). */
EDGEAGENT_API int32_t edgeagent_guard_check_final(edgeagent_guard* guard, edgeagent_guard_verdict* out, int32_t n_max);
/* One-step lookahead: for each of the `n` tool names, whether calling it next is allowed,
 * denied whatever the arguments, or depends on them. Writes `n` values to `out`. */
EDGEAGENT_API edgeagent_status edgeagent_guard_allowed_tools(edgeagent_guard* guard, const char* const* names, size_t n,
                                                             edgeagent_tool_allowance* out);
/* ---- quantization ---- */
typedef struct edgeagent_quantize_params {
    size_t size;      /* sizeof(edgeagent_quantize_params) */
    const char* type; /* "f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "iq4_nl" */
    int32_t n_threads; /* 0: all hardware threads */
} edgeagent_quantize_params;

EDGEAGENT_API edgeagent_quantize_params edgeagent_quantize_default_params(void);

/* Writes `dst` (a GGUF) quantized from the GGUF `src` (normally f16 or f32) with
 * llama.cpp's quantizer. `dst` is written in place: write to a temporary name and
 * rename it for an atomic result. params may be NULL (q4_k_m). */
EDGEAGENT_API edgeagent_status edgeagent_model_quantize(const char* src, const char* dst,
                                                        const edgeagent_quantize_params* params);

#ifdef __cplusplus
}
#endif

#endif /* EDGEAGENT_H */
