#include "model/regex8_p.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

std::shared_ptr<const Regex8> Regex8::compile(std::string_view utf8Pattern, bool caseless)
{
    int error = 0;
    PCRE2_SIZE offset = 0;
    const uint32_t options = PCRE2_UTF | PCRE2_DOTALL | (caseless ? PCRE2_CASELESS : 0);
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(utf8Pattern.data()), utf8Pattern.size(), options,
                                     &error, &offset, nullptr);
    if (!code)
        return nullptr;
    std::shared_ptr<Regex8> r(new Regex8);
    r->m_code = new Code{code};
    r->m_jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    return r;
}

Regex8::~Regex8()
{
    if (m_code)
        pcre2_code_free(m_code->code);
    delete m_code;
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

}  // namespace paramscope
