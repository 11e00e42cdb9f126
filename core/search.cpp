#include "search.h"

#include "modelindex.h"

namespace paramscope {

namespace {

// PCRE2 limits how much backtracking one match may do, so that a catastrophic pattern
// such as (a+)+$ costs a bounded time per name instead of freezing a 100k-name search.
// A name that hits the limit counts as no match.
const QString kMatchLimit = QStringLiteral("(*LIMIT_MATCH=20000)");

}  // namespace

QString matchModeName(MatchMode m)
{
    switch (m) {
    case MatchMode::Exact: return QStringLiteral("exact");
    case MatchMode::Contains: return QStringLiteral("contains");
    case MatchMode::Wildcard: return QStringLiteral("wildcard");
    case MatchMode::Regex: return QStringLiteral("regex");
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

NameMatcher::NameMatcher(const SearchQuery& query) : m_query(query), m_utf8Pattern(query.pattern.toStdString())
{
    if (query.mode != MatchMode::Wildcard && query.mode != MatchMode::Regex)
        return;
    QRegularExpression::PatternOptions opts = QRegularExpression::DotMatchesEverythingOption;
    if (!query.caseSensitive)
        opts |= QRegularExpression::CaseInsensitiveOption;
    const QString body = query.mode == MatchMode::Wildcard ? wildcardToRegex(query.pattern) : query.pattern;
    m_regex = QRegularExpression(kMatchLimit + body, opts);
    if (!m_regex.isValid()) {
        m_error = m_regex.errorString();
        // Offsets count in the pattern as typed, not in our prefix.
        m_errorOffset = int(std::max<qsizetype>(0, m_regex.patternErrorOffset() - kMatchLimit.size()));
        if (query.mode == MatchMode::Wildcard)
            m_errorOffset = -1;  // cannot happen for escaped input, but never point wrongly
        return;
    }
    m_regex.optimize();
}

bool NameMatcher::matches(const QString& name) const
{
    if (!isValid())
        return false;
    if (m_query.pattern.isEmpty())
        return true;
    const Qt::CaseSensitivity cs = m_query.caseSensitive ? Qt::CaseSensitive : Qt::CaseInsensitive;
    switch (m_query.mode) {
    case MatchMode::Exact:
        return name.compare(m_query.pattern, cs) == 0;
    case MatchMode::Contains:
        return name.contains(m_query.pattern, cs);
    case MatchMode::Wildcard:
    case MatchMode::Regex:
        return m_regex.match(name).hasMatch();
    }
    return false;
}

bool NameMatcher::matches(std::string_view utf8Name) const
{
    // UTF-8 is byte-comparable, so case-sensitive exact and substring matches need no
    // conversion: the common case stays a plain byte search.
    if (isValid() && m_query.caseSensitive) {
        if (m_query.mode == MatchMode::Exact)
            return m_query.pattern.isEmpty() || utf8Name == m_utf8Pattern;
        if (m_query.mode == MatchMode::Contains)
            return utf8Name.find(m_utf8Pattern) != std::string_view::npos;
    }
    return matches(QString::fromUtf8(utf8Name.data(), qsizetype(utf8Name.size())));
}

std::vector<int> searchEntries(const ModelIndex& index, const NameMatcher& matcher)
{
    std::vector<int> out;
    if (!matcher.isValid())
        return out;
    for (size_t i = 0; i < index.entries.size(); ++i)
        if (matcher.matches(index.entries[i].name))
            out.push_back(int(i));
    return out;
}

}  // namespace paramscope
