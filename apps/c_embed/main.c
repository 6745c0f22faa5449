/* Embedding edgeagent from C: load a GGUF model, generate with streaming.
 *
 *   cc main.c -I$EA/include -L$EA/lib -ledgeagent -Wl,-rpath,$EA/lib -o c_embed
 *   ./c_embed model.gguf "The capital of France is" [MAX_TOKENS [PREFILL_MODEL.gguf]]
 *
 * where EA=$(python -c "import edgeagent, os; print(os.path.dirname(edgeagent.__file__))").
 */
#include <stdio.h>
#include <stdlib.h>

#include "edgeagent.h"

static bool print_piece(const char* text, size_t len, void* user_data) {
    (void)user_data;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true; /* keep going */
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.gguf PROMPT [MAX_TOKENS [PREFILL_MODEL.gguf]]\n", argv[0]);
        return 2;
    }
    edgeagent_model* model = NULL;
    if (edgeagent_model_load(argv[1], NULL, &model) != EDGEAGENT_OK) {
        fprintf(stderr, "error: %s\n", edgeagent_last_error());
        return 2;
    }
    edgeagent_session_params sp = edgeagent_session_default_params();
    sp.n_ctx = 512;
    sp.n_threads = 2;
    edgeagent_session* session = NULL;
    if (edgeagent_session_create(model, &sp, &session) != EDGEAGENT_OK) {
        fprintf(stderr, "error: %s\n", edgeagent_last_error());
        edgeagent_model_free(model);
        return 1;
    }
    /* A copy of the model in another type evaluates the prompt (e.g. its BF16 copy). */
    edgeagent_model* prefill = NULL;
    if (argc > 4 && (edgeagent_model_load(argv[4], NULL, &prefill) != EDGEAGENT_OK ||
                     edgeagent_session_set_prefill_model(session, prefill) != EDGEAGENT_OK)) {
        fprintf(stderr, "error: %s\n", edgeagent_last_error());
        edgeagent_session_free(session);
        edgeagent_model_free(prefill);
        edgeagent_model_free(model);
        return 2;
    }
    edgeagent_generate_params gp = edgeagent_generate_default_params();
    gp.max_tokens = argc > 3 ? atoi(argv[3]) : 32;
    edgeagent_result result;
    edgeagent_status st = edgeagent_session_generate(session, argv[2], &gp, print_piece, NULL, &result);
    int rc = 0;
    if (st != EDGEAGENT_OK) {
        fprintf(stderr, "error: %s\n", edgeagent_last_error());
        rc = st == EDGEAGENT_ERR_INVALID_ARGUMENT || st == EDGEAGENT_ERR_CONTEXT_OVERFLOW ? 2 : 1;
    } else {
        fprintf(stderr, "\n[%s] %d prompt tokens, %d generated, %.1f tok/s\n", result.finish_reason,
                result.prompt_tokens, result.generated_tokens, result.decode_tok_s);
    }
    edgeagent_session_free(session);
    edgeagent_model_free(prefill);
    edgeagent_model_free(model);
    return rc;
}
