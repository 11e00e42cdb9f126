// The strict JSON pull reader (strictjson.h): UTF-8 validation, string literals with their
// escapes and surrogate pairs, numbers exact to 64 bits, and skipping any value.

#include "formats/safetensors/strictjson.h"

#include "base/result.h"
#include "base/textutil.h"

#include <QStringList>

#include <cstring>
#include <limits>

namespace paramscope::json {

namespace {

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void appendUtf8(std::string& s, std::uint32_t cp)
{
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        s += char(0xE0 | (cp >> 12));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    } else {
        s += char(0xF0 | (cp >> 18));
        s += char(0x80 | ((cp >> 12) & 0x3F));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    }
}

}  // namespace

std::int64_t invalidUtf8At(const std::uint8_t* s, std::size_t n)
{
    std::size_t i = 0;
    while (i < n) {
        // ASCII, the whole of most headers, eight bytes at a time.
        while (n - i >= 8) {
            std::uint64_t word;
            std::memcpy(&word, s + i, 8);
            if (word & 0x8080808080808080u)
                break;
            i += 8;
        }
        if (i == n)
            break;
        const std::uint8_t c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return std::int64_t(i);
        }
        if (n - i < len)
            return std::int64_t(i);
        for (std::size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80)
                return std::int64_t(i);
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return std::int64_t(i);
        i += len;
    }
    return -1;
}

bool StrictReader::fail(const QString& problem, bool withOffset)
{
    m_error = withOffset ? QStringLiteral("%1 at byte %2").arg(argText(problem), argText(m_p - m_begin)) : problem;
    return false;
}

bool StrictReader::syntax(const char* what)
{
    return fail(QStringLiteral("%1: %2").arg(m_syntaxPrefix, QLatin1String(what)), true);
}

bool StrictReader::expect(char c)
{
    skipSpace();
    if (!peek(c)) {
        switch (c) {
            case ':':
                return syntax("expected ':'");
            case '}':
                return syntax("expected ',' or '}'");
            case ']':
                return syntax("expected ',' or ']'");
            case '{':
                return syntax("expected '{'");
            default:
                return syntax("expected '['");
        }
    }
    ++m_p;
    return true;
}

bool StrictReader::hex4(std::uint32_t* out)
{
    if (m_end - m_p < 4)
        return syntax("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        const int d = hexDigit(m_p[i]);
        if (d < 0)
            return syntax("invalid \\u escape");
        v = (v << 4) | std::uint32_t(d);
    }
    m_p += 4;
    *out = v;
    return true;
}

bool StrictReader::parseString(std::string& out)
{
    if (!peek('"'))
        return syntax("expected a string");
    ++m_p;
    out.clear();
    for (;;) {
        const char* run = m_p;
        while (m_p != m_end && *m_p != '"' && *m_p != '\\' && std::uint8_t(*m_p) >= 0x20)
            ++m_p;
        out.append(run, std::size_t(m_p - run));
        if (m_p == m_end)
            return syntax("unterminated string");
        if (*m_p == '"') {
            ++m_p;
            return true;
        }
        if (std::uint8_t(*m_p) < 0x20)
            return syntax("control character in a string");
        ++m_p;  // backslash
        if (m_p == m_end)
            return syntax("unterminated string");
        const char e = *m_p++;
        switch (e) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(&cp))
                    return false;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return syntax("unpaired surrogate in a \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    std::uint32_t low = 0;
                    if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u')
                        return syntax("unpaired surrogate in a \\u escape");
                    m_p += 2;
                    if (!hex4(&low))
                        return false;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return syntax("unpaired surrogate in a \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                appendUtf8(out, cp);
                break;
            }
            default:
                return syntax("invalid escape in a string");
        }
    }
}

bool StrictReader::parseStringView(std::string_view& out, std::string& scratch)
{
    if (!peek('"'))
        return syntax("expected a string");
    const char* start = m_p + 1;
    const char* p = start;
    // Eight bytes at a time while none is '"', '\\' or a control character (SWAR: a byte's high
    // bit set in `hit` when it is one of them).
    constexpr std::uint64_t kOnes = 0x0101010101010101u, kHigh = 0x8080808080808080u;
    while (m_end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        const std::uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
        const std::uint64_t hit =
            ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | ((w - kOnes * 0x20) & ~w);
        if (hit & kHigh)
            break;
        p += 8;
    }
    while (p != m_end && *p != '"' && *p != '\\' && std::uint8_t(*p) >= 0x20)
        ++p;
    if (p != m_end && *p == '"') {
        out = std::string_view(start, std::size_t(p - start));
        m_p = p + 1;
        return true;
    }
    // An escape, a control character or no end: the full reader decodes or explains it.
    if (!parseString(scratch))
        return false;
    out = scratch;
    return true;
}

bool StrictReader::parseNumber(Number& n)
{
    const char* start = m_p;
    bool negative = false, integral = true, overflow = false;
    const auto digit = [this] { return m_p != m_end && *m_p >= '0' && *m_p <= '9'; };
    if (peek('-')) {
        negative = true;
        ++m_p;
    }
    if (!digit())
        return syntax("invalid number");
    if (*m_p == '0') {
        ++m_p;
    } else {
        while (digit()) {
            const std::uint64_t d = std::uint64_t(*m_p - '0');
            if (n.value > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
                overflow = true;
            n.value = n.value * 10 + d;
            ++m_p;
        }
    }
    if (peek('.')) {
        integral = false;
        ++m_p;
        if (!digit())
            return syntax("invalid number");
        while (digit())
            ++m_p;
    }
    if (peek('e') || peek('E')) {
        integral = false;
        ++m_p;
        if (peek('+') || peek('-'))
            ++m_p;
        if (!digit())
            return syntax("invalid number");
        while (digit())
            ++m_p;
    }
    n.whole = !negative && integral && !overflow;
    n.raw = std::string_view(start, std::size_t(m_p - start));
    return true;
}

bool StrictReader::skipValue(QString* text, int depth)
{
    skipSpace();
    if (m_p == m_end)
        return syntax("expected a value");
    if (depth > 64)
        return syntax("nesting deeper than 64 levels");
    const char* start = m_p;
    const char c = *m_p;
    if (c == '"') {
        std::string s;
        if (!parseString(s))
            return false;
        if (text)
            *text = QLatin1Char('"') + utf8ToQString(s).left(40) + QLatin1Char('"');
        return true;
    }
    if (c == '{') {
        if (!readObject([&](std::string&&) { return skipValue(nullptr, depth + 1); }))
            return false;
        if (text)
            *text = QStringLiteral("an object");
        return true;
    }
    if (c == '[') {
        ++m_p;
        if (!consume(']')) {
            for (;;) {
                if (!skipValue(nullptr, depth + 1))
                    return false;
                if (consume(','))
                    continue;
                if (!expect(']'))
                    return false;
                break;
            }
        }
        if (text)
            *text = QStringLiteral("an array");
        return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        Number n;
        if (!parseNumber(n))
            return false;
        if (text)
            *text = n.text();
        return true;
    }
    for (const char* word : {"true", "false", "null"}) {
        const std::size_t len = std::strlen(word);
        if (std::size_t(m_end - m_p) >= len && std::memcmp(m_p, word, len) == 0) {
            m_p += len;
            if (text)
                *text = QString::fromLatin1(start, qsizetype(len));
            return true;
        }
    }
    return syntax("expected a value");
}

bool StrictReader::parseNumberArray(std::vector<Number>& out, bool* isArray, QString* notArray)
{
    if (!at('[')) {
        *isArray = false;
        return skipValue(notArray);
    }
    *isArray = true;
    ++m_p;
    if (!consume(']')) {
        for (;;) {
            if (!atNumber()) {
                // Not a number: keep the array's text short and let the caller explain.
                Number bad;
                if (!skipValue(&bad.rendered))
                    return false;
                out.push_back(std::move(bad));
            } else {
                Number n;
                if (!parseNumber(n))
                    return false;
                out.push_back(std::move(n));
            }
            if (consume(','))
                continue;
            if (!expect(']'))
                return false;
            break;
        }
    }
    return true;
}

QString renderArray(const std::vector<Number>& items)
{
    QStringList parts;
    for (const auto& n : items)
        parts << n.text();
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

}  // namespace paramscope::json
