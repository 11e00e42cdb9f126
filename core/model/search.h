#pragma once

#include <QRegularExpression>
#include <QString>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

class ModelIndex;
class NameCorpus;
class Regex8;
struct SearchResult;

enum class MatchMode {
    Exact,     // the whole name, as dict(model.named_parameters())[name]
    Contains,  // substring
    Wildcard,  // '*' (any run of characters, dots included) and '?' (one character)
    Regex,     // regular expression with search semantics, like Python's re.search
};
QString matchModeName(MatchMode m);  // "exact", "contains", "wildcard", "regex"

/// The outcome of matching one name. Undecided: a regular expression hit PCRE2's
/// backtracking limit on this name, so whether it matches is unknown (it is not counted as
/// a match; callers report it). Exact, Contains and Wildcard are always decided.
enum class MatchResult { NoMatch, Match, Undecided };

struct SearchQuery {
    MatchMode mode = MatchMode::Contains;
    QString pattern;
    bool caseSensitive = true;
};

/// A compiled query. Never throws: an invalid regular expression gives !isValid() with a
/// reason and the position (0-based, in the pattern as typed) where it went wrong.
/// Wildcards are compiled to a linear-time matcher (no regular expression), so every
/// wildcard is valid and every name is decided.
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

    /// matches(): match() == MatchResult::Match.
    bool matches(const QString& name) const;
    bool matches(std::string_view utf8Name) const;
    MatchResult match(const QString& name) const;
    MatchResult match(std::string_view utf8Name) const;

private:
    friend SearchResult searchModel(const NameCorpus& corpus, const NameMatcher& matcher);
    MatchResult matchRegexUtf8(std::string_view utf8Name, bool wellFormed) const;
    bool matchWildcardBytes(std::string_view asciiName) const;

    SearchQuery m_query;
    QRegularExpression m_regex;  // Regex
    std::u32string m_wildcard;   // Wildcard: the pattern's code points (case-folded if ignoring case)
    std::string m_utf8Pattern;   // for byte-wise case-sensitive Exact and Contains
    // An ASCII pattern, lower-cased when ignoring case: ASCII names are then matched byte-wise
    // (for ASCII text, Unicode case folding is ASCII lower-casing); any other name goes the
    // QString way (the Kelvin sign U+212A folds to 'k').
    bool m_asciiPattern = false;
    std::string m_asciiFolded;
    // Wildcard, ASCII pattern: m_asciiFolded split at each '*'.
    std::vector<std::string> m_pieces;
    // Regex: the same expression compiled by PCRE2's 8-bit library, matched on UTF-8 names
    // directly (null when it cannot stand in for m_regex).
    std::shared_ptr<const Regex8> m_regex8;
    // Runs of characters every matching name contains (ASCII-folded when ignoring case): the
    // pattern (Exact, Contains), the pieces without '?' (Wildcard), the literals of a regex.
    std::vector<std::string> m_literals;
    QString m_error;
    int m_errorOffset = -1;
};

/// One search over a model: the matching entries and those that could not be decided
/// (MatchResult::Undecided), both as indices in the index's order.
struct SearchResult {
    std::vector<int> entries;
    std::vector<int> undecided;
};

/// Every entry's full name matched; an invalid matcher matches nothing.
SearchResult searchModel(const ModelIndex& index, const NameMatcher& matcher);
/// The same over the names of the model `corpus` was built from, faster: one substring search
/// over all names as a prefilter (the matcher decides each name it passes), names that are
/// ASCII matched byte-wise, regular expressions by PCRE2 on the UTF-8 names. Same results.
SearchResult searchModel(const NameCorpus& corpus, const NameMatcher& matcher);
/// searchModel(...).entries.
std::vector<int> searchEntries(const ModelIndex& index, const NameMatcher& matcher);

/// Wildcard pattern as an anchored regular expression (for display and comparison; the
/// matcher itself does not use it).
QString wildcardToRegex(const QString& pattern);

/// Whether `name` matches the wildcard `pattern` ('*' any run of code points, '?' one code
/// point, everything else literal), in O(|name| * |pattern|) at worst, without recursion.
bool wildcardMatch(std::u32string_view pattern, std::u32string_view name);

}  // namespace paramscope
