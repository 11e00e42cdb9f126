#include "model/regex8_p.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <initializer_list>

namespace paramscope {

struct Regex8::Code {
    pcre2_code* code;
};

namespace {

// Per thread: one match block (one ovector pair is enough to tell a match) and a JIT stack
// as large as Qt's (32 KiB growing to 512 KiB), so that deep patterns fail no earlier than
// QRegularExpression does.
struct ThreadState {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, nullptr);
    ThreadState()
    {
        if (context && stack)
            pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~ThreadState()
    {
        pcre2_jit_stack_free(stack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
    ThreadState(const ThreadState&) = delete;
    ThreadState& operator=(const ThreadState&) = delete;
};

ThreadState& threadState()
{
    static thread_local ThreadState state;
    return state;
}

}  // namespace

std::shared_ptr<const Regex8> Regex8::compile(std::string_view utf8Pattern, bool caseless, std::string_view prefix)
{
    int error = 0;
    PCRE2_SIZE offset = 0;
    const uint32_t options = PCRE2_UTF | PCRE2_DOTALL | (caseless ? PCRE2_CASELESS : 0);
    const std::string whole = std::string(prefix) + std::string(utf8Pattern);
    pcre2_code* code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(whole.data()), whole.size(), options, &error, &offset, nullptr);
    if (!code)
        return nullptr;
    std::shared_ptr<Regex8> r(new Regex8);
    r->m_code = new Code{code};
    r->m_jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    // `$` as requiredEnding() reads it, by what the pattern ended up with (inline settings such
    // as (*CR), (?m) or (*UCP) included): the end, or before a final "\n".
    uint32_t all = 0, newline = 0;
    const bool plainDollar = pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &all) == 0 &&
                             pcre2_pattern_info(code, PCRE2_INFO_NEWLINE, &newline) == 0 &&
                             newline == PCRE2_NEWLINE_LF &&
                             !(all & (PCRE2_MULTILINE | PCRE2_DOLLAR_ENDONLY | PCRE2_UCP));
    if (plainDollar)
        r->m_ending = requiredEnding(utf8Pattern, caseless);
    return r;
}

Regex8::~Regex8()
{
    if (m_code)
        pcre2_code_free(m_code->code);
    delete m_code;
}

bool Regex8::mayEndAt(std::string_view name) const
{
    return m_ending.empty() || endsAsRequired(name, m_ending);
}

Regex8::Outcome Regex8::match(std::string_view name, bool wellFormed) const
{
    ThreadState& t = threadState();
    if (!t.data || !t.context || !t.stack)
        return Error;
    const auto subject = reinterpret_cast<PCRE2_SPTR>(name.data());
    int rc;
    if (m_jit && wellFormed)
        rc = pcre2_jit_match(m_code->code, subject, name.size(), 0, 0, t.data, t.context);
    else
        rc = pcre2_match(m_code->code, subject, name.size(), 0, wellFormed ? PCRE2_NO_UTF_CHECK : 0, t.data, t.context);
    if (rc >= 0)
        return Match;  // 0: a match, with more groups than the one ovector pair holds
    return rc == PCRE2_ERROR_NOMATCH ? NoMatch : Error;
}

namespace {

bool isAsciiAlnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t utf8Length(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
}

// {n}, {n,} or {n,m} starting at p[i] == '{' (PCRE2 10.42's quantifier syntax): the index
// after '}', or 0 if it is not one.
size_t quantifierEnd(std::string_view p, size_t i)
{
    size_t j = i + 1;
    const size_t digits = j;
    while (j < p.size() && p[j] >= '0' && p[j] <= '9')
        ++j;
    if (j == digits)
        return 0;
    if (j < p.size() && p[j] == ',') {
        ++j;
        while (j < p.size() && p[j] >= '0' && p[j] <= '9')
            ++j;
    }
    return j < p.size() && p[j] == '}' ? j + 1 : 0;
}

// The index after the character class starting at p[i] == '[', or 0 if unsure.
size_t classEnd(std::string_view p, size_t i)
{
    size_t j = i + 1;
    if (j < p.size() && p[j] == '^')
        ++j;
    if (j < p.size() && p[j] == ']')
        ++j;  // a ']' first is literal
    while (j < p.size()) {
        if (p[j] == '\\') {
            if (j + 1 >= p.size() || p[j + 1] == 'Q')
                return 0;
            j += 2;
        } else if (p[j] == '[' && j + 1 < p.size() && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
            const size_t close = p.find(std::string{p[j + 1], ']'}, j + 2);
            if (close == std::string_view::npos)
                return 0;
            j = close + 2;
        } else if (p[j] == ']') {
            return j + 1;
        } else {
            ++j;
        }
    }
    return 0;
}

}  // namespace

namespace {

// The runs of literal characters at depth 0 as the scan finds them.
class Runs {
public:
    explicit Runs(bool caseless) : m_caseless(caseless) {}
    void flush()
    {
        if (!m_run.empty())
            m_runs.push_back(m_run);
        m_run.clear();
        m_lastStart = std::string::npos;
    }
    // The last character was quantified so that it may be absent: it leaves the run.
    void dropLast()
    {
        if (m_lastStart != std::string::npos)
            m_run.resize(m_lastStart);
        flush();
    }
    void literal(std::string_view ch)
    {
        if (m_caseless && (ch.size() != 1 || std::uint8_t(ch[0]) >= 0x80)) {
            flush();  // a non-ASCII character may fold to several forms: not searched for
            return;
        }
        m_lastStart = m_run.size();
        for (char c : ch)
            m_run += m_caseless && c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
    }
    std::vector<std::string> take()
    {
        flush();
        return std::move(m_runs);
    }

private:
    bool m_caseless;
    std::vector<std::string> m_runs;
    std::string m_run;
    size_t m_lastStart = std::string::npos;  // where the run's last character starts
};

constexpr size_t kGiveUp = std::string_view::npos;

// A backslash at p[i]: the index after the escape, or kGiveUp.
size_t escape(std::string_view p, size_t i, bool top, Runs& runs)
{
    // Escapes that take no argument: after one of these, what follows is read afresh.
    static constexpr std::string_view kPlainEscapes = "dDwWsShHvVRXbBAzZGKEantfre";
    if (i + 1 >= p.size() || p[i + 1] == 'Q')
        return kGiveUp;
    const char d = p[i + 1];
    if (isAsciiAlnum(d)) {
        if (kPlainEscapes.find(d) == std::string_view::npos)
            return kGiveUp;  // \x{..}, \p{..}, \g, \k<..>, back references, octal: not parsed
        if (top)
            runs.flush();
        return i + 2;
    }
    const size_t len = utf8Length(std::uint8_t(d));  // a quoted character stands for itself
    if (i + 1 + len > p.size())
        return kGiveUp;
    if (top)
        runs.literal(p.substr(i + 1, len));
    return i + 1 + len;
}

// A metacharacter or a literal at depth 0, p[i]: the index after it, or kGiveUp.
size_t topLevel(std::string_view p, size_t i, Runs& runs)
{
    switch (p[i]) {
        case '*':
        case '?':
            runs.dropLast();  // after an empty run (a group, a class, a quantifier): nothing to drop
            return i + 1;
        case '+':
            runs.flush();
            return i + 1;
        case '{': {
            const size_t e = quantifierEnd(p, i);
            if (e == 0)
                return kGiveUp;
            runs.dropLast();
            return e;
        }
        case '.':
        case '^':
        case '$':
        case ']':
        case '}':
            runs.flush();
            return i + 1;
        default:
            break;
    }
    const size_t len = utf8Length(std::uint8_t(p[i]));
    if (i + len > p.size())
        return kGiveUp;
    runs.literal(p.substr(i, len));
    return i + len;
}

}  // namespace

std::vector<std::string> requiredLiterals(std::string_view p, bool caseless)
{
    Runs runs(caseless);
    int depth = 0;
    size_t i = 0;
    while (i < p.size()) {
        const char c = p[i];
        if (c == '\\') {
            i = escape(p, i, depth == 0, runs);
        } else if (c == '(') {
            if (i + 1 < p.size() && p[i + 1] == '*')
                return {};
            const bool special = i + 1 < p.size() && p[i + 1] == '?';
            if (special && (i + 2 >= p.size() || p[i + 2] != ':'))
                return {};
            if (depth == 0)
                runs.flush();
            ++depth;
            i += special ? 3 : 1;
        } else if (c == ')') {
            if (--depth < 0)
                return {};
            ++i;
        } else if (c == '[') {
            const size_t e = classEnd(p, i);
            if (e == 0)
                return {};
            if (depth == 0)
                runs.flush();
            i = e;
        } else if (c == '|') {
            if (depth == 0)
                return {};
            ++i;
        } else if (depth > 0) {
            ++i;
        } else {
            i = topLevel(p, i, runs);
        }
        if (i == kGiveUp)
            return {};
    }
    if (depth != 0)
        return {};
    return runs.take();
}

namespace {

// One item at depth 0 of a pattern, for requiredEnding(): a character that only ASCII
// characters match (`set`), or anything else (a group, a class, '.', an assertion).
struct Item {
    bool atom = false;
    AsciiSet set;
    bool optional = false;  // quantified so that it may be absent
    bool repeated = false;  // quantified to one or more
    bool dollar = false;
};

Item atomOf(std::initializer_list<unsigned char> chars, bool caseless)
{
    Item it;
    it.atom = true;
    for (unsigned char c : chars) {
        it.set.add(c);
        if (caseless && c >= 'a' && c <= 'z')
            it.set.add(c - 'a' + 'A');
        if (caseless && c >= 'A' && c <= 'Z')
            it.set.add(c - 'A' + 'a');
    }
    return it;
}

Item classItem(char escape)
{
    Item it;
    it.atom = true;
    for (int c = 0; c < 128; ++c) {
        const bool digit = c >= '0' && c <= '9';
        const bool word = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool space = (c >= 9 && c <= 13) || c == ' ';
        if ((escape == 'd' && digit) || (escape == 'w' && word) || (escape == 's' && space))
            it.set.add(static_cast<unsigned char>(c));
    }
    return it;
}

// An escape at depth 0, p[i] == '\\': its item, and the index after it (kGiveUp if not parsed).
size_t escapeItem(std::string_view p, size_t i, bool caseless, Item& out)
{
    if (i + 1 >= p.size() || p[i + 1] == 'Q')
        return kGiveUp;
    const char d = p[i + 1];
    if (!isAsciiAlnum(d)) {  // a quoted character stands for itself
        const size_t len = utf8Length(std::uint8_t(d));
        if (i + 1 + len > p.size())
            return kGiveUp;
        if (len == 1)
            out = atomOf({static_cast<unsigned char>(d)}, caseless);
        return i + 1 + len;
    }
    switch (d) {
        case 'd':
        case 'w':
        case 's':
            out = classItem(d);
            return i + 2;
        case 'n':
            out = atomOf({'\n'}, false);
            return i + 2;
        case 't':
            out = atomOf({'\t'}, false);
            return i + 2;
        case 'r':
            out = atomOf({'\r'}, false);
            return i + 2;
        case 'f':
            out = atomOf({'\f'}, false);
            return i + 2;
        case 'e':
            out = atomOf({0x1B}, false);
            return i + 2;
        case 'a':
            out = atomOf({0x07}, false);
            return i + 2;
        default:
            break;
    }
    // Other escapes without an argument (\D, \b, \z, \R, ...): something, but no ASCII atom.
    static constexpr std::string_view kPlainEscapes = "dDwWsShHvVRXbBAzZGKEantfre";
    return kPlainEscapes.find(d) == std::string_view::npos ? kGiveUp : i + 2;
}

// A quantifier at p[i] applied to `last`: the index after it (and a lazy or possessive mark),
// kGiveUp if not parsed.
size_t quantify(std::string_view p, size_t i, Item& last)
{
    size_t e = i + 1;
    if (p[i] == '*' || p[i] == '?') {
        last.optional = true;
    } else if (p[i] == '+') {
        last.repeated = true;
    } else {
        e = quantifierEnd(p, i);
        if (e == 0)
            return kGiveUp;
        if (p[i + 1] == '0' && (p[i + 2] == ',' || p[i + 2] == '}' || p[i + 2] == '0'))
            last.optional = true;  // {0}, {0,m}, {0,}, {00...}
        else
            last.repeated = true;
        // {1} is exactly once, {n} n>1 repeats it: either way the last character is in the set.
    }
    if (e < p.size() && (p[e] == '?' || p[e] == '+'))
        ++e;
    return e;
}

}  // namespace

std::vector<AsciiSet> requiredEnding(std::string_view p, bool caseless)
{
    std::vector<Item> items;
    int depth = 0;
    size_t i = 0;
    while (i < p.size()) {
        const char c = p[i];
        if (c == '(') {
            if (i + 1 < p.size() && p[i + 1] == '*')
                return {};
            const bool special = i + 1 < p.size() && p[i + 1] == '?';
            if (special && (i + 2 >= p.size() || p[i + 2] != ':'))
                return {};
            ++depth;
            i += special ? 3 : 1;
        } else if (c == ')') {
            if (--depth < 0)
                return {};
            if (depth == 0)
                items.push_back(Item());  // the group, as one item
            ++i;
        } else if (c == '[') {
            const size_t e = classEnd(p, i);
            if (e == 0)
                return {};
            if (depth == 0)
                items.push_back(Item());
            i = e;
        } else if (c == '\\') {
            Item it;
            i = escapeItem(p, i, caseless, it);
            if (i != kGiveUp && depth == 0)
                items.push_back(it);
        } else if (depth > 0) {
            ++i;  // inside a group: only its nesting matters
        } else if (c == '|') {
            return {};
        } else if (c == '*' || c == '?' || c == '+' || c == '{') {
            if (items.empty())
                return {};
            i = quantify(p, i, items.back());
        } else if (c == '$') {
            Item it;
            it.dollar = true;
            items.push_back(it);
            ++i;
        } else {
            const size_t len = utf8Length(std::uint8_t(c));
            if (i + len > p.size())
                return {};
            const bool plain = len == 1 && c != '.' && c != '^' && c != ']' && c != '}';
            items.push_back(plain ? atomOf({static_cast<unsigned char>(c)}, caseless) : Item());
            i += len;
        }
        if (i == kGiveUp)
            return {};
    }
    if (depth != 0 || items.empty() || !items.back().dollar || items.back().optional || items.back().repeated)
        return {};
    std::vector<AsciiSet> ending;
    for (size_t k = items.size() - 1; k-- > 0;) {
        const Item& it = items[k];
        if (!it.atom || it.optional)
            break;
        ending.push_back(it.set);
        if (it.repeated)
            break;  // the characters before it may be more of it
    }
    return ending;
}

bool endsAsRequired(std::string_view name, const std::vector<AsciiSet>& ending)
{
    const auto fits = [&](size_t end) {
        if (end < ending.size())
            return false;
        for (size_t k = 0; k < ending.size(); ++k)
            if (!ending[k].has(std::uint8_t(name[end - 1 - k])))
                return false;
        return true;
    };
    return fits(name.size()) || (!name.empty() && name.back() == '\n' && fits(name.size() - 1));
}

}  // namespace paramscope
