#include "model/search.h"

#include "model/modelindex.h"
#include "model/namecorpus.h"
#include "model/regex8_p.h"
#include "base/textutil.h"

#include <algorithm>
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
        if (m_asciiPattern) {
            size_t start = 0;
            for (size_t i = 0; i <= m_asciiFolded.size(); ++i)
                if (i == m_asciiFolded.size() || m_asciiFolded[i] == '*') {
                    m_pieces.push_back(m_asciiFolded.substr(start, i - start));
                    start = i + 1;
                }
            for (const std::string& piece : m_pieces)
                for (size_t b = 0, e; b < piece.size(); b = e + 1) {
                    e = std::min(piece.find('?', b), piece.size());
                    if (e > b)
                        m_literals.push_back(piece.substr(b, e - b));
                }
        }
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
    // PCRE2 8-bit reads the same pattern the same way in UTF-8 as Qt's 16-bit library does in
    // UTF-16, except \C (one code unit, a byte here), so any "\C" keeps to Qt; so does a
    // pattern that UTF-8 cannot hold (a lone surrogate).
    if (m_utf8Pattern.find("\\C") == std::string::npos && utf8ToQString(m_utf8Pattern) == query.pattern) {
        m_regex8 = Regex8::compile(m_utf8Pattern, !query.caseSensitive, kMatchLimit.toStdString());
        if (m_regex8)
            m_literals = requiredLiterals(m_utf8Pattern, !query.caseSensitive);
    }
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
    if (isValid() && m_regex8 && !m_query.pattern.isEmpty())
        return matchRegexUtf8(utf8Name, false);
    // Not QString::fromUtf8: it drops a leading U+FEFF.
    return match(utf8ToQString(utf8Name));
}

MatchResult NameMatcher::matchRegexUtf8(std::string_view utf8Name, bool wellFormed) const
{
    switch (m_regex8->match(utf8Name, wellFormed)) {
        case Regex8::Match:
            return MatchResult::Match;
        case Regex8::NoMatch:
            return MatchResult::NoMatch;
        case Regex8::Error:
            break;
    }
    // The match limit, the JIT stack or a name that is not UTF-8: QRegularExpression decides,
    // as it always did (and says Undecided where it gives up).
    return match(utf8ToQString(utf8Name));
}

namespace {

// Whether `piece` ('?' any byte) is at name[at...].
bool pieceAt(std::string_view piece, std::string_view name, size_t at)
{
    for (size_t k = 0; k < piece.size(); ++k)
        if (piece[k] != '?' && piece[k] != name[at + k])
            return false;
    return true;
}

size_t findPiece(std::string_view piece, std::string_view name, size_t from, size_t to)
{
    if (to < from || piece.size() > to - from)
        return std::string_view::npos;
    if (piece.find('?') == std::string_view::npos) {
        const size_t p = name.substr(0, to).find(piece, from);
        return p;
    }
    for (size_t at = from; at + piece.size() <= to; ++at)
        if (pieceAt(piece, name, at))
            return at;
    return std::string_view::npos;
}

}  // namespace

bool NameMatcher::matchWildcardBytes(std::string_view name) const
{
    // Between the stars every piece has a fixed length, so taking each middle piece at its
    // first place is never worse than a later one: the first piece anchored at the start, the
    // last at the end, the others found left to right in between.
    if (m_pieces.size() == 1)
        return name.size() == m_pieces[0].size() && pieceAt(m_pieces[0], name, 0);
    const std::string& first = m_pieces.front();
    const std::string& last = m_pieces.back();
    if (name.size() < first.size() + last.size() || !pieceAt(first, name, 0) ||
        !pieceAt(last, name, name.size() - last.size()))
        return false;
    size_t pos = first.size();
    const size_t limit = name.size() - last.size();
    for (size_t j = 1; j + 1 < m_pieces.size(); ++j) {
        if (m_pieces[j].empty())
            continue;
        const size_t at = findPiece(m_pieces[j], name, pos, limit);
        if (at == std::string_view::npos)
            return false;
        pos = at + m_pieces[j].size();
    }
    return true;
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

SearchResult searchModel(const NameCorpus& corpus, const NameMatcher& matcher)
{
    SearchResult out;
    if (!matcher.isValid())
        return out;
    const auto add = [&out](int i, MatchResult r) {
        if (r == MatchResult::Match)
            out.entries.push_back(i);
        else if (r == MatchResult::Undecided)
            out.undecided.push_back(i);
    };
    const int n = corpus.size();
    const SearchQuery& q = matcher.query();
    if (q.pattern.isEmpty()) {
        out.entries.resize(size_t(n));
        for (int i = 0; i < n; ++i)
            out.entries[size_t(i)] = i;
        return out;
    }
    const bool cs = q.caseSensitive;
    const std::string_view pattern = cs ? matcher.m_utf8Pattern : matcher.m_asciiFolded;
    const auto perName = [&](int i) { return matcher.match(corpus.name(i)); };
    // Each mode: a literal that every matching name contains, searched over all names at once
    // (in the ASCII-folded bytes when ignoring case); what decides a name that holds it; and
    // which names are decided apart, by the per-name path, whatever the literal search says:
    // ignoring case, every name with a non-ASCII byte (a non-ASCII character can fold to an
    // ASCII one: the Kelvin sign to 'k').
    const auto scan = [&](std::string_view literal, auto decide, auto apart) {
        forEachNameContaining(corpus, literal, !cs, [&](int i) {
            if (!apart(i))
                add(i, decide(i));
        });
        const size_t matches = out.entries.size(), undecided = out.undecided.size();
        for (int i : corpus.nonAscii())  // apart(i) is only ever true for these
            if (apart(i))
                add(i, perName(i));
        std::inplace_merge(out.entries.begin(), out.entries.begin() + std::ptrdiff_t(matches), out.entries.end());
        std::inplace_merge(out.undecided.begin(), out.undecided.begin() + std::ptrdiff_t(undecided),
                           out.undecided.end());
    };
    // Of the literals every match contains, the one whose rarest byte is rarest in the names
    // (then the longest): it lets the fewest names through.
    const auto rarest = [&](const std::vector<std::string>& literals) {
        std::string_view best;
        std::uint64_t bestCount = UINT64_MAX;
        const auto& counts = corpus.byteCounts(!cs);
        for (const std::string& l : literals) {
            std::uint64_t count = UINT64_MAX;
            for (const char c : l)
                count = std::min<std::uint64_t>(count, counts[std::uint8_t(c)]);
            if (count < bestCount || (count == bestCount && l.size() > best.size())) {
                best = l;
                bestCount = count;
            }
        }
        return best;
    };
    const auto nonAsciiIfFolding = [&](int i) { return !cs && !corpus.isAscii(i); };
    const bool bytesOk = cs || matcher.m_asciiPattern;  // a non-ASCII pattern ignoring case: per name
    const auto yes = [](bool hit) { return hit ? MatchResult::Match : MatchResult::NoMatch; };
    switch (q.mode) {
        case MatchMode::Exact:
            if (!bytesOk)
                break;
            // Case-sensitive: equal bytes (as match() compares UTF-8); else ASCII, folded.
            scan(
                pattern, [&](int i) { return yes(corpus.end(i) - corpus.begin(i) == pattern.size()); },
                nonAsciiIfFolding);
            return out;
        case MatchMode::Contains:
            if (!bytesOk)
                break;
            scan(
                pattern, [](int) { return MatchResult::Match; }, nonAsciiIfFolding);
            return out;
        case MatchMode::Wildcard:
            if (!matcher.m_asciiPattern)
                break;
            scan(
                rarest(matcher.m_literals),
                [&](int i) {
                    if (!corpus.isAscii(i))
                        return perName(i);  // '?' takes a whole code point
                    return yes(matcher.matchWildcardBytes(cs ? corpus.name(i) : corpus.folded(i)));
                },
                nonAsciiIfFolding);
            return out;
        case MatchMode::Regex:
            if (!matcher.m_regex8)
                break;
            // A name that is not UTF-8 goes to QRegularExpression, which reads its bad bytes
            // as U+FFFD: apart as well. A pattern that ends with `$` after known characters
            // (`.*\d$`) rules out, before PCRE2 is run, the names that do not end with them:
            // PCRE2 would try every place to end `.*` (ASCII names when folding, any UTF-8
            // name when not, which is what reaches here).
            scan(
                rarest(matcher.m_literals),
                [&](int i) {
                    const std::string_view name = corpus.name(i);
                    if (!matcher.m_regex8->mayEndAt(name))
                        return MatchResult::NoMatch;
                    return matcher.matchRegexUtf8(name, true);
                },
                [&](int i) { return nonAsciiIfFolding(i) || !corpus.isUtf8(i); });
            return out;
    }
    for (int i = 0; i < n; ++i)
        add(i, perName(i));
    return out;
}

std::vector<int> searchEntries(const ModelIndex& index, const NameMatcher& matcher)
{
    return searchModel(index, matcher).entries;
}

}  // namespace paramscope
