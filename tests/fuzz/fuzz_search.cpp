// libFuzzer target: the search pattern compiler (core/search.h) in every mode, case on and
// off. Input: one flags byte (bits 0-1 the mode, bit 2 case-insensitive), then the pattern,
// then optional extra names, separated by NUL bytes. Checks that hold whatever the pattern:
// the UTF-8 and the QString overloads of matches() agree on valid UTF-8, a wildcard
// without '*' or '?' matches exactly the names the exact mode matches, and the search over a
// NameCorpus gives the per-name results (a regular expression: QRegularExpression's on the
// name as a QString, wherever it decides).
#include "fuzzutil.h"
#include "model/modelindex.h"
#include "model/namecorpus.h"
#include "model/search.h"
#include "base/textutil.h"

#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace paramscope;

namespace {

bool validUtf8(std::string_view s)
{
    const QString q = QString::fromUtf8(s.data(), qsizetype(s.size()));
    return q.toStdString() == s;
}

const std::vector<std::string> kNames{
    "",
    "weight",
    "encoder.layers.0.self_attn.q_proj.weight",
    "encoder.layers.10.self_attn.k_proj.bias",
    "model.embed_tokens.weight",
    "bn.running_mean",
    "bn.num_batches_tracked",
    "a.b",
    "a*b?c",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
    "\xc3\x9f\xc3\xa9l\xc3\xa8ve.\xe2\x84\xaa",  // "ßélève.K" (Kelvin sign)
    "\xef\xbb\xbfweight",                        // leading U+FEFF
    "x\ny\tz\x1b[31m",
    "%1%2.%3",
    "layers.17\n",  // a digit before a final newline: `$` matches before it
    "x.k1",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    const unsigned flags = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<std::string_view> parts;
    for (size_t start = 0;;) {
        const size_t nul = rest.find('\0', start);
        parts.push_back(rest.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
        if (nul == std::string_view::npos || parts.size() > 16)
            break;
        start = nul + 1;
    }
    SearchQuery q;
    q.mode = MatchMode(flags & 3);
    q.caseSensitive = (flags & 4) == 0;
    q.pattern = QString::fromUtf8(parts[0].data(), qsizetype(parts[0].size()));
    const NameMatcher m(q);
    if (!m.isValid()) {
        FUZZ_CHECK(!m.errorString().isEmpty(), "an invalid pattern without a reason");
        FUZZ_CHECK(m.errorOffset() >= -1 && m.errorOffset() <= q.pattern.size(), "an error offset outside the pattern");
    }
    wildcardToRegex(q.pattern);
    SearchQuery exactQ = q;
    exactQ.mode = MatchMode::Exact;
    const NameMatcher exact(exactQ);
    const bool literalWildcard = q.mode == MatchMode::Wildcard && q.caseSensitive &&
                                 !q.pattern.contains(QLatin1Char('*')) && !q.pattern.contains(QLatin1Char('?'));

    std::vector<std::string_view> names(kNames.begin(), kNames.end());
    names.insert(names.end(), parts.begin() + 1, parts.end());
    for (std::string_view n : names) {
        const QString qn = QString::fromUtf8(n.data(), qsizetype(n.size()));
        const bool a = m.matches(qn);
        const bool b = m.matches(n);
        if (validUtf8(n) && validUtf8(parts[0]))
            FUZZ_CHECK(a == b, "matches(QString) and matches(UTF-8) disagree");
        if (literalWildcard && m.isValid())
            FUZZ_CHECK(a == exact.matches(qn), "a wildcard without * or ? differs from the exact match");
    }

    ModelIndex index;  // entries set directly: names may repeat here
    for (std::string_view n : names) {
        TensorEntry e;
        e.name = std::string(n);
        index.entries.push_back(e);
    }
    const NameCorpus corpus(index);
    const SearchResult fast = searchModel(corpus, m);
    std::vector<MatchResult> got(names.size(), MatchResult::NoMatch);
    for (int i : fast.entries)
        got[size_t(i)] = MatchResult::Match;
    for (int i : fast.undecided) {
        FUZZ_CHECK(got[size_t(i)] == MatchResult::NoMatch, "a name both matched and undecided");
        got[size_t(i)] = MatchResult::Undecided;
    }
    for (size_t i = 0; i < names.size(); ++i) {
        const bool regex = q.mode == MatchMode::Regex;
        const MatchResult want = regex ? m.match(utf8ToQString(names[i])) : m.match(names[i]);
        if (want != MatchResult::Undecided)
            FUZZ_CHECK(got[i] == want, "the corpus search differs from the per-name match");
        if (regex && want != MatchResult::Undecided)
            FUZZ_CHECK(m.match(names[i]) == want, "PCRE2 8-bit differs from QRegularExpression");
    }
    return 0;
}
