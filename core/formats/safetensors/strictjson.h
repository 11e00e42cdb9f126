#pragma once

// The one JSON reader of the safetensors code: a strict, allocation-light pull reader (RFC 8259
// grammar) used for the header of a .safetensors file and for the shard index of a sharded
// checkpoint. Callers walk the text themselves (objects member by member, in the file's
// order), so a key written twice is seen twice, integers are exact to 64 bits, and the first
// problem stops the read with its byte offset. Qt's QJsonDocument would do the syntax, but it
// keeps one value per key (hiding a duplicated name), reorders keys, holds numbers as doubles,
// and takes seconds on a 20 MB header of 200k tensors. The text must already be valid UTF-8
// (invalidUtf8At checks it).

#include <QString>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope::json {

/// Offset of the first byte that is not part of well-formed UTF-8 (no overlong forms, no
/// surrogates, nothing above U+10FFFF), or -1.
std::int64_t invalidUtf8At(const std::uint8_t* s, std::size_t n);

/// A JSON number as written, classified for fields that must hold whole numbers >= 0.
struct Number {
    bool whole = false;  // no sign, fraction or exponent, and fits in 64 bits
    std::uint64_t value = 0;
    std::string_view raw;  // a number: its text as written (a view into the reader's text)
    QString rendered;      // an array item that is no number: its rendering (skipValue)
    /// As written, for messages.
    QString text() const { return raw.empty() ? rendered : QString::fromLatin1(raw.data(), qsizetype(raw.size())); }
};

/// "[1, 2, 3]": an array read by parseNumberArray, for messages.
QString renderArray(const std::vector<Number>& items);

class StrictReader {
public:
    StrictReader(const char* text, std::size_t size) : m_begin(text), m_p(text), m_end(text + size) {}

    /// Why the last call returned false.
    const QString& error() const { return m_error; }

    /// Sets the error (with " at byte N" when `withOffset`) and returns false.
    bool fail(const QString& problem, bool withOffset = false);
    /// A syntax error: "the header is not valid JSON: <what> at byte N" style, with `prefix`
    /// set by setSyntaxPrefix.
    bool syntax(const char* what);
    /// The text put before every syntax error ("the header is not valid JSON").
    void setSyntaxPrefix(QString prefix) { m_syntaxPrefix = std::move(prefix); }

    void skipSpace()
    {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }
    bool atEnd() const { return m_p == m_end; }
    bool peek(char c) const { return m_p != m_end && *m_p == c; }
    /// Skips space; true (and consumes it) when the next character is `c`.
    bool consume(char c)
    {
        skipSpace();
        if (!peek(c))
            return false;
        ++m_p;
        return true;
    }
    /// Skips space and consumes `c` (':', '}', ']' or '['), or fails with a syntax error.
    bool expect(char c);
    /// True when, after space, a number starts here.
    bool atNumber()
    {
        skipSpace();
        return peek('-') || (m_p != m_end && *m_p >= '0' && *m_p <= '9');
    }
    /// True when, after space, the next value is of the kind `c` starts ('"', '{', '[').
    bool at(char c)
    {
        skipSpace();
        return peek(c);
    }

    /// A string literal, escapes decoded (names compare by their decoded text).
    bool parseString(std::string& out);
    /// The same, without a copy when it can: `out` views the text itself when the literal has
    /// no escape, else `scratch`, which then holds the decoded literal (valid until `scratch`
    /// changes). Checked exactly as parseString checks.
    bool parseStringView(std::string_view& out, std::string& scratch);
    /// Whether `s` points into the text (a view from parseStringView that needs no copy).
    bool inText(std::string_view s) const { return s.data() >= m_begin && s.data() + s.size() <= m_end; }
    /// A number token; `whole` when it is a non-negative integer that fits in 64 bits.
    bool parseNumber(Number& n);
    /// Skips any value; `text` (if given) gets a short rendering of it for messages: the
    /// number or literal as written, a string quoted and cut at 40 characters, "an object",
    /// "an array".
    bool skipValue(QString* text, int depth = 0);
    /// An array of numbers, appended to `out`; items that are not numbers are kept with only
    /// their rendering (not whole), for the caller to explain. When the value is no array,
    /// `*isArray` is false and it is skipped with `notArray` rendering it (renderArray()
    /// renders an array, only when a message needs it).
    bool parseNumberArray(std::vector<Number>& out, bool* isArray, QString* notArray);

    /// Reads an object, '{' to '}', calling `member(std::string&& key)` with the reader at
    /// the member's value; `member` must read the value and return false to stop.
    template <typename F>
    bool readObject(F&& member)
    {
        if (!expect('{'))
            return false;
        if (consume('}'))
            return true;
        for (;;) {
            std::string key;
            skipSpace();
            if (!parseString(key) || !expect(':'))
                return false;
            if (!member(std::move(key)))
                return false;
            if (consume(','))
                continue;
            return expect('}');
        }
    }

    /// readObject with each key as a view (parseStringView): `member(std::string_view key)`;
    /// a key with escapes is decoded into a buffer reused by the next key.
    template <typename F>
    bool readObjectViews(F&& member)
    {
        if (!expect('{'))
            return false;
        if (consume('}'))
            return true;
        std::string scratch;
        for (;;) {
            std::string_view key;
            skipSpace();
            if (!parseStringView(key, scratch) || !expect(':'))
                return false;
            if (!member(key))
                return false;
            if (consume(','))
                continue;
            return expect('}');
        }
    }

    /// Fails with `what` as a syntax error unless only space is left.
    bool finish(const char* what)
    {
        skipSpace();
        return m_p == m_end || syntax(what);
    }

private:
    bool hex4(std::uint32_t* out);

    const char* m_begin;
    const char* m_p;
    const char* m_end;
    QString m_error;
    QString m_syntaxPrefix = QStringLiteral("the text is not valid JSON");
};

}  // namespace paramscope::json
