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

class Regex8 {
public:
    /// Null if PCRE2 does not compile it (the caller then keeps to QRegularExpression).
    static std::shared_ptr<const Regex8> compile(std::string_view utf8Pattern, bool caseless);
    ~Regex8();
    Regex8(const Regex8&) = delete;
    Regex8& operator=(const Regex8&) = delete;

    enum Outcome { NoMatch, Match, Error };
    /// Error: any failure (the match limit, the JIT stack, a name that is not UTF-8). With
    /// `wellFormed` the caller vouches for the name's UTF-8 and PCRE2 does not check it again.
    Outcome match(std::string_view name, bool wellFormed) const;

private:
    Regex8() = default;
    struct Code;
    Code* m_code = nullptr;
    bool m_jit = false;
};

/// Runs of characters that every match of `pattern` (as PCRE2 reads it, with PCRE2_UTF and
/// PCRE2_DOTALL, and PCRE2_CASELESS if `caseless`) contains, each one; none when it finds
/// none or the pattern has anything it does not understand. Conservative: top level
/// only, no '|' at depth 0, a character quantified by '?', '*' or '{' left out, escapes other
/// than a quoted punctuation character break the run, any "(?" other than "(?:" or "(*" gives
/// none. With `caseless` the run is ASCII only, lower-cased (to search ASCII-folded names).
std::vector<std::string> requiredLiterals(std::string_view utf8Pattern, bool caseless);

}  // namespace paramscope
