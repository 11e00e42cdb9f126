#include "model/search.h"

#include "model/modelindex.h"
#include "base/textutil.h"

#include <cstdint>

namespace paramscope {

namespace {

// PCRE2 limits how much backtracking one match may do, so that a catastrophic pattern
// such as (a+)+$ costs a bounded time per name instead of freezing a 100k-name search.
// A name that hits the limit is Undecided (QRegularExpressionMatch::isValid() is false
// when PCRE2 returns an error such as PCRE2_ERROR_MATCHLIMIT): reported, never silently
// counted as no match.
const QString kMatchLimit = QStringLiteral("(*LIMIT_MATCH=20000)");

}  // namespace

QString matchModeName(MatchMode m)
{
    switch (m) {
        case MatchMode::Exact:
            return QStringLiteral("exact");
        case MatchMode::Contains:
            return QStringLiteral("contains");
        case MatchMode::Wildcard:
            return QStringLiteral("wildcard");
        case MatchMode::Regex:
            return QStringLiteral("regex");
    }
    return {};
}

QString wildcardToRegex(const QString& pattern)
{
    QString rx;
    rx.reserve(pattern.size() * 2 + 8);
    rx += QStringLiteral("\\A(?:");
    for (QChar c : pattern) {
        if (c == QLatin1Char('*'))
            rx += QStringLiteral(".*");
        else if (c == QLatin1Char('?'))
            rx += QLatin1Char('.');
        else
            rx += QRegularExpression::escape(QString(c));
    }
    rx += QStringLiteral(")\\z");
    return rx;
}

namespace {

std::u32string codePoints(const QString& s, bool fold)
{
    const QList<uint> ucs4 = (fold ? s.toCaseFolded() : s).toUcs4();
    return std::u32string(ucs4.begin(), ucs4.end());
}

}  // namespace

namespace {

bool isAscii(std::string_view s)
{
    for (const char c : s)
        if (std::uint8_t(c) >= 0x80)
            return false;
    return true;
}

char lowerAscii(char c)
{
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

/// wildcardMatch over bytes: for an ASCII pattern and name (one byte, one code point).
template <bool Fold>
bool wildcardBytes(std::string_view pattern, std::string_view name)
{
    size_t p = 0, n = 0;
    size_t starP = std::string_view::npos, starN = 0;
    while (n < name.size()) {
        const char c = Fold ? lowerAscii(name[n]) : name[n];
        if (p < pattern.size() && pattern[p] == '*') {
            starP = p++;
            starN = n;
        } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == c)) {
            ++p;
            ++n;
        } else if (starP != std::string_view::npos) {
            p = starP + 1;
            n = ++starN;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

/// Case-insensitive substring search of an ASCII, lower-cased `needle` in an ASCII `hay`.
bool containsFolded(std::string_view hay, std::string_view needle)
{
    if (needle.size() > hay.size())
        return false;
    const char first = needle[0];
    for (size_t i = 0, last = hay.size() - needle.size(); i <= last; ++i) {
        if (lowerAscii(hay[i]) != first)
            continue;
        size_t k = 1;
        while (k < needle.size() && lowerAscii(hay[i + k]) == needle[k])
            ++k;
        if (k == needle.size())
            return true;
    }
    return false;
}

}  // namespace

bool wildcardMatch(std::u32string_view pattern, std::u32string_view name)
{
    // Greedy scan; on a mismatch, go back to the last '*' and let it take one more code
    // point. Only the last star matters (any earlier one can absorb what a later one
    // would), so this is exact and costs at most |name| * |pattern| steps.
    size_t p = 0, n = 0;
    size_t starP = std::u32string_view::npos, starN = 0;
    while (n < name.size()) {
        if (p < pattern.size() && pattern[p] == U'*') {
            starP = p++;
            starN = n;
        } else if (p < pattern.size() && (pattern[p] == U'?' || pattern[p] == name[n])) {
            ++p;
            ++n;
        } else if (starP != std::u32string_view::npos) {
            p = starP + 1;
            n = ++starN;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == U'*')
        ++p;
    return p == pattern.size();
}

NameMatcher::NameMatcher(const SearchQuery& query) : m_query(query), m_utf8Pattern(query.pattern.toStdString())
{
    m_asciiPattern = isAscii(m_utf8Pattern);
    if (m_asciiPattern) {
        m_asciiFolded = m_utf8Pattern;
        if (!query.caseSensitive)
            for (char& c : m_asciiFolded)
                c = lowerAscii(c);
    }
    if (query.mode == MatchMode::Wildcard) {
        m_wildcard = codePoints(query.pattern, !query.caseSensitive);
        return;
    }
    if (query.mode != MatchMode::Regex)
        return;
    QRegularExpression::PatternOptions opts = QRegularExpression::DotMatchesEverythingOption;
    if (!query.caseSensitive)
        opts |= QRegularExpression::CaseInsensitiveOption;
    m_regex = QRegularExpression(kMatchLimit + query.pattern, opts);
    if (!m_regex.isValid()) {
        m_error = m_regex.errorString();
        // Offsets count in the pattern as typed, not in our prefix.
        m_errorOffset = int(std::max<qsizetype>(0, m_regex.patternErrorOffset() - kMatchLimit.size()));
        return;
    }
    m_regex.optimize();
}

MatchResult NameMatcher::match(const QString& name) const
{
    if (!isValid())
        return MatchResult::NoMatch;
    if (m_query.pattern.isEmpty())
        return MatchResult::Match;
    const Qt::CaseSensitivity cs = m_query.caseSensitive ? Qt::CaseSensitive : Qt::CaseInsensitive;
    bool hit = false;
    switch (m_query.mode) {
        case MatchMode::Exact:
            hit = name.compare(m_query.pattern, cs) == 0;
            break;
        case MatchMode::Contains:
            hit = name.contains(m_query.pattern, cs);
            break;
        case MatchMode::Wildcard:
            hit = wildcardMatch(m_wildcard, codePoints(name, !m_query.caseSensitive));
            break;
        case MatchMode::Regex: {
            const QRegularExpressionMatch m = m_regex.match(name);
            if (!m.isValid())
                return MatchResult::Undecided;  // PCRE2 gave up (match limit), not "no match"
            hit = m.hasMatch();
            break;
        }
    }
    return hit ? MatchResult::Match : MatchResult::NoMatch;
}

MatchResult NameMatcher::match(std::string_view utf8Name) const
{
    // UTF-8 is byte-comparable, so case-sensitive exact and substring matches need no
    // conversion: the common case stays a plain byte search.
    if (isValid() && m_query.caseSensitive) {
        if (m_query.mode == MatchMode::Exact)
            return m_query.pattern.isEmpty() || utf8Name == m_utf8Pattern ? MatchResult::Match : MatchResult::NoMatch;
        if (m_query.mode == MatchMode::Contains)
            return utf8Name.find(m_utf8Pattern) != std::string_view::npos ? MatchResult::Match : MatchResult::NoMatch;
    }
    // ASCII pattern and name: byte-wise, folding ASCII letters when ignoring case.
    if (isValid() && m_asciiPattern && !m_query.pattern.isEmpty() && m_query.mode != MatchMode::Regex &&
        isAscii(utf8Name)) {
        const auto result = [](bool hit) { return hit ? MatchResult::Match : MatchResult::NoMatch; };
        if (m_query.mode == MatchMode::Wildcard)
            return result(m_query.caseSensitive ? wildcardBytes<false>(m_asciiFolded, utf8Name)
                                                : wildcardBytes<true>(m_asciiFolded, utf8Name));
        if (m_query.mode == MatchMode::Contains)
            return result(containsFolded(utf8Name, m_asciiFolded));
        if (utf8Name.size() != m_asciiFolded.size())
            return MatchResult::NoMatch;
        for (size_t i = 0; i < utf8Name.size(); ++i)
            if (lowerAscii(utf8Name[i]) != m_asciiFolded[i])
                return MatchResult::NoMatch;
        return MatchResult::Match;
    }
    // Not QString::fromUtf8: it drops a leading U+FEFF.
    return match(utf8ToQString(utf8Name));
}

bool NameMatcher::matches(const QString& name) const
{
    return match(name) == MatchResult::Match;
}

bool NameMatcher::matches(std::string_view utf8Name) const
{
    return match(utf8Name) == MatchResult::Match;
}

SearchResult searchModel(const ModelIndex& index, const NameMatcher& matcher)
{
    SearchResult out;
    if (!matcher.isValid())
        return out;
    for (size_t i = 0; i < index.entries.size(); ++i) {
        switch (matcher.match(index.entries[i].name)) {
            case MatchResult::Match:
                out.entries.push_back(int(i));
                break;
            case MatchResult::Undecided:
                out.undecided.push_back(int(i));
                break;
            case MatchResult::NoMatch:
                break;
        }
    }
    return out;
}

std::vector<int> searchEntries(const ModelIndex& index, const NameMatcher& matcher)
{
    return searchModel(index, matcher).entries;
}

}  // namespace paramscope
