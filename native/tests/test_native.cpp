// C++ tests of the decode loop's pure parts: text streaming (stop strings, UTF-8
// hold-back) and the sampler. Prints "N passed, N failed" and exits non-zero on failure.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "edgeagent/errors.h"
#include "edgeagent/sampler.h"
#include "text_stream.h"

using namespace edgeagent;

static int g_passed = 0, g_failed = 0;
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            ++g_passed;                                                    \
        } else {                                                           \
            ++g_failed;                                                    \
            std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                  \
    } while (0)

template <typename F>
static bool throws_invalid(F f) {
    try {
        f();
    } catch (const InvalidArgument&) {
        return true;
    }
    return false;
}

static void test_stop_strings() {
    TextStream s({"</tool_call>", "\n\n"});
    std::string shown;
    for (const char* piece : {"hello", " wor", "ld</tool", "_call> tail"}) {
        bool stopped = s.append(piece);
        shown += s.take_ready();
        if (stopped) break;
    }
    shown += s.take_rest();
    CHECK(shown == "hello world");
    CHECK(s.text() == "hello world");
    CHECK(s.stop_sequence() == "</tool_call>");

    // A possible stop prefix is held back, then released when it turns out not to be one.
    TextStream t({"STOP"});
    CHECK(!t.append("abST"));
    CHECK(t.take_ready() == "ab");
    CHECK(!t.append("x"));
    CHECK(t.take_ready() == "STx");

    // The earliest stop string wins.
    TextStream u({"bc", "ab"});
    CHECK(u.append("xabc"));
    CHECK(u.text() == "x");
    CHECK(u.stop_sequence() == "ab");

    CHECK(throws_invalid([] { TextStream bad({""}); }));
}

static void test_utf8_holdback() {
    const std::string euro = "\xE2\x82\xAC";  // €, 3 bytes
    TextStream s({});
    s.append("a" + euro.substr(0, 1));
    CHECK(s.take_ready() == "a");
    s.append(euro.substr(1, 1));
    CHECK(s.take_ready().empty());
    s.append(euro.substr(2));
    CHECK(s.take_ready() == euro);
    s.append("\xF0\x9F");  // a 4-byte sequence cut short at the end is dropped
    CHECK(s.take_rest().empty());
    CHECK(s.text() == "a" + euro);
    CHECK(utf8_complete_prefix("ab", 2) == 2);
    CHECK(utf8_complete_prefix("\xC3", 1) == 0);
    CHECK(utf8_complete_prefix("\xC3\xA9", 2) == 2);
}

static void test_sampler() {
    const int n = 100;
    std::vector<float> logits(n);
    for (int i = 0; i < n; ++i) logits[i] = std::sin(i * 1.7f) * 3.0f;
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (logits[i] > logits[best]) best = i;

    SamplingParams greedy;
    Sampler g(n, greedy);
    auto l = logits;
    CHECK(g.sample(l.data(), nullptr, 0) == best);

    // The mask is obeyed: with only token 7 and 9 allowed, greedy picks the larger.
    std::vector<uint32_t> mask((n + 31) / 32, 0);
    mask[7 >> 5] |= 1u << (7 & 31);
    mask[9 >> 5] |= 1u << (9 & 31);
    l = logits;
    CHECK(g.sample(l.data(), nullptr, 0, mask.data()) == (logits[7] > logits[9] ? 7 : 9));

    // top_k = 1 is greedy whatever the temperature.
    SamplingParams k1;
    k1.temperature = 2.0f;
    k1.top_k = 1;
    k1.seed = 3;
    Sampler s1(n, k1);
    for (int i = 0; i < 20; ++i) {
        l = logits;
        CHECK(s1.sample(l.data(), nullptr, 0) == best);
    }

    // Same seed, same sequence; sampled tokens stay within the top-p nucleus.
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_p = 0.5f;
    p.seed = 42;
    Sampler a(n, p), b(n, p);
    std::map<int, int> counts;
    for (int i = 0; i < 500; ++i) {
        auto la = logits, lb = logits;
        int ta = a.sample(la.data(), nullptr, 0), tb = b.sample(lb.data(), nullptr, 0);
        CHECK(ta == tb);
        counts[ta]++;
    }
    CHECK(counts.size() > 1);  // it really samples
    CHECK(counts.size() < 20); // and the nucleus is small

    // min_p close to 1 keeps only the best token.
    SamplingParams mp;
    mp.temperature = 1.0f;
    mp.min_p = 0.999f;
    mp.seed = 1;
    Sampler m(n, mp);
    l = logits;
    CHECK(m.sample(l.data(), nullptr, 0) == best);

    // Repeat penalty pushes a repeated token down.
    SamplingParams rp;
    rp.repeat_penalty = 100.0f;
    Sampler r(n, rp);
    l = logits;
    int recent[] = {best};
    CHECK(r.sample(l.data(), recent, 1) != best);

    SamplingParams bad;
    bad.temperature = -1;
    CHECK(throws_invalid([&] { validate(bad); }));
    bad = {};
    bad.top_p = 0;
    CHECK(throws_invalid([&] { validate(bad); }));
    bad = {};
    bad.min_p = 1.0f;
    CHECK(throws_invalid([&] { validate(bad); }));
    bad = {};
    bad.top_k = -2;
    CHECK(throws_invalid([&] { validate(bad); }));
}

static void test_repetition() {
    using V = std::vector<int32_t>;
    const V zeros{7, 1, 2, 0, 2, 0, 2, 0};  // "[" then ", 0" three times
    CHECK(ends_in_repetition(zeros, 3));
    CHECK(!ends_in_repetition(zeros, 4));
    CHECK(!ends_in_repetition(zeros, 0) && !ends_in_repetition(zeros, 1));  // off
    CHECK(ends_in_repetition(V{5, 5, 5}, 3) && !ends_in_repetition(V{5, 5, 6}, 2));
    CHECK(!ends_in_repetition(V{1, 2, 3, 1, 2, 4}, 2));
    V long_block;  // a block of 16 twice, then one of 17 twice (too long to count)
    for (int r = 0; r < 2; ++r)
        for (int32_t t = 0; t < 16; ++t) long_block.push_back(t);
    CHECK(ends_in_repetition(long_block, 2));
    V longer;
    for (int r = 0; r < 2; ++r)
        for (int32_t t = 0; t < 17; ++t) longer.push_back(t);
    CHECK(!ends_in_repetition(longer, 2));
    CHECK(!ends_in_repetition(V{}, 2));
}

int main() {
    test_stop_strings();
    test_utf8_holdback();
    test_sampler();
    test_repetition();
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
