#pragma once

#include <QRegularExpression>
#include <QString>

#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

class ModelIndex;

enum class MatchMode {
    Exact,     // the whole name, as dict(model.named_parameters())[name]
    Contains,  // substring
    Wildcard,  // '*' (any run of characters, dots included) and '?' (one character)
    Regex,     // regular expression with search semantics, like Python's re.search
};
QString matchModeName(MatchMode m);  // "exact", "contains", "wildcard", "regex"

struct SearchQuery {
    MatchMode mode = MatchMode::Contains;
    QString pattern;
    bool caseSensitive = true;
};

/// A compiled query. Never throws: an invalid pattern gives !isValid() with a reason and
/// the position (0-based, in the pattern as typed) where it went wrong.
class NameMatcher {
public:
    NameMatcher() = default;
    explicit NameMatcher(const SearchQuery& query);

    bool isValid() const { return m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    int errorOffset() const { return m_errorOffset; }
    /// An empty pattern matches every name.
    bool isEmpty() const { return m_query.pattern.isEmpty(); }
    const SearchQuery& query() const { return m_query; }

    bool matches(const QString& name) const;
    bool matches(std::string_view utf8Name) const;

private:
    SearchQuery m_query;
    QRegularExpression m_regex;  // Wildcard and Regex
    std::string m_utf8Pattern;   // for byte-wise case-sensitive Exact and Contains
    QString m_error;
    int m_errorOffset = -1;
};

/// Indices of the entries whose full names match, in the index's order.
/// An invalid matcher matches nothing.
std::vector<int> searchEntries(const ModelIndex& index, const NameMatcher& matcher);

/// Wildcard pattern as an anchored regular expression.
QString wildcardToRegex(const QString& pattern);

}  // namespace paramscope
