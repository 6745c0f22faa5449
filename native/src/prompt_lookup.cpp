#include "prompt_lookup.h"

#include <algorithm>
#include <cstring>

namespace edgeagent {
namespace {

// ASCII letters and digits, and every byte of a multi-byte UTF-8 character: a word of
// another script is a word too.
bool is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool starts_word(const std::string& s, size_t at) {
    return at < s.size() && is_word_byte(static_cast<unsigned char>(s[at])) &&
           (at == 0 || !is_word_byte(static_cast<unsigned char>(s[at - 1])));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Words that end what a request names and go on with the sentence ("Yellowstone National
// Park | for the next 5 years", "2x^2 | at x = 1"): a draft stops before them; where a
// name holds one ("Bank of America"), the model writes it and the next draft goes on.
constexpr const char* kClauseWords[] = {"a",     "an",   "and",  "are",   "as",    "at",    "but",  "by",
                                        "for",   "from", "given", "if",   "in",    "into",  "is",   "of",
                                        "on",    "or",   "over",  "per",  "than",  "that",  "the",  "then",
                                        "to",    "using", "was",  "when", "where", "which", "while", "with"};

bool is_clause_word(const std::string& s, size_t from, size_t to) {
    const size_t n = to - from;
    for (const char* w : kClauseWords) {
        if (std::strlen(w) != n) continue;
        bool same = true;
        for (size_t i = 0; i < n && same; ++i) same = (s[from + i] | 0x20) == w[i];
        if (same) return true;
    }
    return false;
}

// The end of the continuation that starts at `from`: before a line break, before
// punctuation that ends a phrase (followed by a space or the end), and before a space
// and a clause word.
size_t phrase_end(const std::string& s, size_t from) {
    for (size_t i = from; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\n') return i;
        if (std::strchr(",.;:!?)\"'", c) != nullptr && (i + 1 == s.size() || is_space(s[i + 1]))) return i;
        if (c == ' ') {
            size_t end = i + 1;
            while (end < s.size() && is_word_byte(static_cast<unsigned char>(s[end]))) ++end;
            if (end > i + 1 && is_clause_word(s, i + 1, end)) return i;
        }
    }
    return s.size();
}

// Only the last bytes of the output are looked up: an argument value, not the call.
constexpr size_t kMaxTail = 64;

}  // namespace

std::string PromptLookup::continuation(const std::string& output, size_t max_bytes, bool& cut) const {
    cut = false;
    const size_t first = output.size() > kMaxTail ? output.size() - kMaxTail : 0;
    for (size_t p = first; p < output.size(); ++p) {  // longest tail first
        if (!starts_word(output, p)) continue;
        const size_t len = output.size() - p;
        // One letter says too little of what is being copied (one digit starts a number).
        if (len == 1 && !(output[p] >= '0' && output[p] <= '9')) break;
        for (size_t q = prompt_.rfind(output.data() + p, std::string::npos, len); q != std::string::npos;
             q = q == 0 ? std::string::npos : prompt_.rfind(output.data() + p, q - 1, len)) {
            if (!starts_word(prompt_, q)) continue;
            const size_t from = q + len;
            size_t to = phrase_end(prompt_, from);
            if (to - from > max_bytes) {
                to = from + max_bytes;
                cut = true;
            }
            return prompt_.substr(from, to - from);
        }
    }
    return {};
}

}  // namespace edgeagent
