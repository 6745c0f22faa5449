// Turns the bytes of sampled tokens into text that is safe to show: it holds back an
// incomplete UTF-8 sequence and any tail that could be the start of a stop string,
// and finds the first stop string. Internal to the decode loop.
#pragma once

#include <string>
#include <vector>

namespace edgeagent {

class TextStream {
public:
    explicit TextStream(std::vector<std::string> stops);

    // Appends token bytes. Returns true when a stop string completed (text is then
    // truncated before it and `stop_sequence()` names it).
    bool append(const std::string& bytes);
    // The part of the text not returned by an earlier call that is safe to show now.
    std::string take_ready();
    // At the end: everything not yet taken (dropping a trailing incomplete UTF-8 sequence).
    std::string take_rest();

    const std::string& text() const { return text_; }
    const std::string& stop_sequence() const { return stop_; }

private:
    size_t safe_end() const;
    std::vector<std::string> stops_;
    size_t max_stop_ = 0;
    std::string text_;
    size_t shown_ = 0;
    std::string stop_;
};

// Length of the longest prefix of `s` that ends on a UTF-8 character boundary.
size_t utf8_complete_prefix(const char* s, size_t n);

}  // namespace edgeagent
