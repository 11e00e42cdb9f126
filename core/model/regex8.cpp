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

std::vector<std::string> requiredLiterals(std::string_view p, bool caseless)
{
    // Escapes that take no argument: after one of these, what follows is read afresh.
    static constexpr std::string_view kPlainEscapes = "dDwWsShHvVRXbBAzZGKEantfre";
    std::vector<std::string> runs;
    std::string run;
    size_t lastStart = std::string::npos;  // where the run's last character starts
    const auto flush = [&] {
        if (!run.empty())
            runs.push_back(run);
        run.clear();
        lastStart = std::string::npos;
    };
    const auto dropLast = [&] {
        if (lastStart != std::string::npos)
            run.resize(lastStart);
        flush();
    };
    const auto literal = [&](std::string_view ch) {
        if (caseless && (ch.size() != 1 || std::uint8_t(ch[0]) >= 0x80)) {
            flush();  // a non-ASCII character may fold to several forms: not searched for
            return;
        }
        lastStart = run.size();
        for (char c : ch)
            run += caseless && c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
    };
    int depth = 0;
    size_t i = 0;
    while (i < p.size()) {
        const char c = p[i];
        if (c == '\\') {
            if (i + 1 >= p.size() || p[i + 1] == 'Q')
                return {};
            const char d = p[i + 1];
            if (isAsciiAlnum(d)) {
                if (kPlainEscapes.find(d) == std::string_view::npos)
                    return {};  // \x{..}, \p{..}, \g, \k<..>, back references, octal: not parsed
                if (depth == 0)
                    flush();
                i += 2;
                continue;
            }
            const size_t len = utf8Length(std::uint8_t(d));
            if (i + 1 + len > p.size())
                return {};
            if (depth == 0)
                literal(p.substr(i + 1, len));
            i += 1 + len;
            continue;
        }
        if (c == '(') {
            if (i + 1 < p.size() && p[i + 1] == '*')
                return {};
            if (i + 1 < p.size() && p[i + 1] == '?' && (i + 2 >= p.size() || p[i + 2] != ':'))
                return {};
            if (depth == 0)
                flush();
            ++depth;
            i += i + 1 < p.size() && p[i + 1] == '?' ? 3 : 1;
            continue;
        }
        if (c == ')') {
            if (--depth < 0)
                return {};
            ++i;
            continue;
        }
        if (c == '[') {
            const size_t e = classEnd(p, i);
            if (e == 0)
                return {};
            if (depth == 0)
                flush();
            i = e;
            continue;
        }
        if (c == '|') {
            if (depth == 0)
                return {};
            ++i;
            continue;
        }
        if (depth > 0) {
            ++i;
            continue;
        }
        switch (c) {
            case '*':
            case '?':
                dropLast();  // after an empty run (a group, a class, a quantifier): nothing to drop
                ++i;
                continue;
            case '+':
                flush();
                ++i;
                continue;
            case '{': {
                const size_t e = quantifierEnd(p, i);
                if (e == 0)
                    return {};
                dropLast();
                i = e;
                continue;
            }
            case '.':
            case '^':
            case '$':
            case ']':
            case '}':
                flush();
                ++i;
                continue;
            default:
                break;
        }
        const size_t len = utf8Length(std::uint8_t(c));
        if (i + len > p.size())
            return {};
        literal(p.substr(i, len));
        i += len;
    }
    if (depth != 0)
        return {};
    flush();
    return runs;
}

}  // namespace paramscope
