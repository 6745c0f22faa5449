#include "text_stream.h"

#include <algorithm>

#include "edgeagent/errors.h"

namespace edgeagent {

size_t utf8_complete_prefix(const char* s, size_t n) {
    // Walk back over at most 3 continuation bytes to the lead byte of the last character.
    size_t i = n;
    int cont = 0;
    while (i > 0 && cont < 4) {
        const unsigned char c = static_cast<unsigned char>(s[i - 1]);
        if ((c & 0xC0) == 0x80) {  // continuation byte
            --i;
            ++cont;
            continue;
        }
        size_t need = 1;
        if ((c & 0xE0) == 0xC0) need = 2;
        else if ((c & 0xF0) == 0xE0) need = 3;
        else if ((c & 0xF8) == 0xF0) need = 4;
        return (n - (i - 1) >= need) ? n : i - 1;
    }
    return n;  // only continuation bytes (invalid input): nothing to wait for
}

TextStream::TextStream(std::vector<std::string> stops) : stops_(std::move(stops)) {
    for (const auto& s : stops_) {
        if (s.empty()) throw InvalidArgument("stop strings must not be empty");
        max_stop_ = std::max(max_stop_, s.size());
    }
}

bool TextStream::append(const std::string& bytes) {
    const size_t old = text_.size();
    text_ += bytes;
    if (stops_.empty()) return false;
    // A stop string can only complete in the region touched by the new bytes.
    const size_t from = old >= max_stop_ ? old - max_stop_ + 1 : 0;
    size_t best = std::string::npos;
    for (const auto& s : stops_) {
        size_t pos = text_.find(s, from);
        if (pos != std::string::npos && pos < best) {
            best = pos;
            stop_ = s;
        }
    }
    if (best == std::string::npos) return false;
    text_.resize(best);
    if (shown_ > best) shown_ = best;  // cannot happen: the held-back tail covers it
    return true;
}

size_t TextStream::safe_end() const {
    size_t end = text_.size();
    // Hold back the longest tail that is a proper prefix of some stop string.
    for (const auto& s : stops_) {
        for (size_t k = std::min(s.size() - 1, text_.size()); k > 0; --k) {
            if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
                end = std::min(end, text_.size() - k);
                break;
            }
        }
    }
    return utf8_complete_prefix(text_.data(), end);
}

std::string TextStream::take_ready() {
    const size_t end = safe_end();
    if (end <= shown_) return {};
    std::string out = text_.substr(shown_, end - shown_);
    shown_ = end;
    return out;
}

std::string TextStream::take_rest() {
    text_.resize(utf8_complete_prefix(text_.data(), text_.size()));
    if (shown_ >= text_.size()) return {};
    std::string out = text_.substr(shown_);
    shown_ = text_.size();
    return out;
}

}  // namespace edgeagent
