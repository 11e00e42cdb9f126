#pragma once

// PCRE2's 8-bit library on UTF-8 names, for the regular-expression search: the same engine,
// version and options as QRegularExpression (PCRE2_UTF, plus PCRE2_CASELESS and
// PCRE2_DOTALL as NameMatcher sets them), without converting each name to UTF-16.
// Internal to core/model.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

/// A set of ASCII characters.
struct AsciiSet {
    std::uint64_t bits[2] = {0, 0};
    void add(unsigned char c) { bits[c >> 6] |= std::uint64_t(1) << (c & 63); }
    bool has(unsigned char c) const { return c < 128 && (bits[c >> 6] >> (c & 63) & 1); }
};

class Regex8 {
public:
    /// Null if PCRE2 does not compile `prefix` + `utf8Pattern` (the caller then keeps to
    /// QRegularExpression). `prefix`: settings such as (*LIMIT_MATCH=n), left out of the
    /// pattern's analysis (requiredEnding()).
    static std::shared_ptr<const Regex8> compile(std::string_view utf8Pattern, bool caseless,
                                                 std::string_view prefix = {});
    ~Regex8();
    Regex8(const Regex8&) = delete;
    Regex8& operator=(const Regex8&) = delete;

    /// False when no match can end `name`: the pattern ends with `$` after characters
    /// (requiredEnding()) that the name does not end with. Exact for an ASCII name, and for any
    /// well-formed UTF-8 name when case-sensitive; true when the pattern says nothing of its end
    /// or `$` means more than the end or before a final "\n" (multi-line mode, another newline
    /// convention, Unicode properties for \d \w \s).
    bool mayEndAt(std::string_view name) const;

    enum Outcome { NoMatch, Match, Error };
    /// Error: any failure (the match limit, the JIT stack, a name that is not UTF-8). With
    /// `wellFormed` the caller vouches for the name's UTF-8 and PCRE2 does not check it again.
    Outcome match(std::string_view name, bool wellFormed) const;

private:
    Regex8() = default;
    struct Code;
    Code* m_code = nullptr;
    bool m_jit = false;
    std::vector<AsciiSet> m_ending;  // requiredEnding(), when `$` is plain
};

/// Runs of characters that every match of `pattern` (as PCRE2 reads it, with PCRE2_UTF and
/// PCRE2_DOTALL, and PCRE2_CASELESS if `caseless`) contains, each one; none when it finds
/// none or the pattern has anything it does not understand. Conservative: top level
/// only, no '|' at depth 0, a character quantified by '?', '*' or '{' left out, escapes other
/// than a quoted punctuation character break the run, any "(?" other than "(?:" or "(*" gives
/// none. With `caseless` the run is ASCII only, lower-cased (to search ASCII-folded names).
std::vector<std::string> requiredLiterals(std::string_view utf8Pattern, bool caseless);

/// When `pattern` ends with `$` at the top level: what the characters just before that end
/// must be, the last first, each an ASCII set (literal ASCII characters, \d, \w, \s and the
/// like, not quantified so that they may be absent); none when it does not end so or the
/// scan finds anything it does not understand (the same rules as requiredLiterals()). A
/// match then ends at the end of the name or before its final "\n" (see Regex8::mayEndAt()),
/// so those characters end the name there: see endsAsRequired(). With `caseless` the sets
/// hold both cases of a letter, exact for ASCII names only (the Kelvin sign matches 'k').
std::vector<AsciiSet> requiredEnding(std::string_view utf8Pattern, bool caseless);

/// Whether `name` (its last bytes, or those before a final '\n') fits `ending`.
bool endsAsRequired(std::string_view name, const std::vector<AsciiSet>& ending);

}  // namespace paramscope
