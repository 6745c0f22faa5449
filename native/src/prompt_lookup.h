// Prompt-lookup drafting: a function call copies much of its arguments from the request
// ("New York City", "123456", "AGTCGATCG..."). Where the output has just begun writing
// a word the prompt holds, the prompt's next bytes are a likely continuation; the
// session checks a few tokens of it against the model in one batch (greedy decoding
// only) instead of sampling them one step each.
#pragma once

#include <cstddef>
#include <string>

namespace edgeagent {

class PromptLookup {
public:
    explicit PromptLookup(std::string prompt) : prompt_(std::move(prompt)) {}

    // The prompt's bytes after the latest occurrence of the longest tail of `output` that
    // starts a word in both (an alphanumeric byte after a non-alphanumeric one, or at the
    // start; one letter is not enough), up to the end of that phrase (a line break,
    // punctuation before a space, a clause word such as "for" or "with") and at most
    // `max_bytes`; empty when there is none. `cut`: whether max_bytes cut it short.
    std::string continuation(const std::string& output, size_t max_bytes, bool& cut) const;

private:
    std::string prompt_;
};

}  // namespace edgeagent
