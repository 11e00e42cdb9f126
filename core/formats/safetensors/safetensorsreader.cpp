#include "formats/engines_p.h"
#include "formats/safetensors/safetensorsreader.h"
#include "base/textutil.h"

#include "formats/loader.h"
#include "base/mappedfile.h"
#include "base/resourcelimits.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

namespace {

QString fileLabel(const QString& path)
{
    const QString name = QFileInfo(path).fileName();
    return name.isEmpty() ? path : name;
}

QString invalidFile(const QString& path, const QString& problem)
{
    return QStringLiteral("'%1' is not a valid safetensors file: %2").arg(fileLabel(path), problem);
}

QString qs(const std::string& s) { return utf8ToQString(s); }

bool cancelled(const LoadOptions& o) { return o.cancel && o.cancel->load(); }

void report(const LoadOptions& o, double fraction, const QString& stage)
{
    if (o.progress)
        o.progress(fraction, stage);
}

struct StorageSpan {
    std::shared_ptr<const MappedFile> file;
    std::uint64_t offset = 0;  // absolute, in the file
    std::uint64_t size = 0;
    std::string name;
};

/// One storage per tensor, each a slice of a mapped file (of its shard).
class SafetensorsProvider final : public StorageProvider {
public:
    explicit SafetensorsProvider(std::vector<StorageSpan> spans) : m_spans(std::move(spans)) {}

    Result<StorageBytes> storageBytes(int index) const override
    {
        if (index < 0 || size_t(index) >= m_spans.size())
            return Result<StorageBytes>::failure(QStringLiteral("no storage #%1").arg(index));
        const StorageSpan& s = m_spans[size_t(index)];
        // A file truncated in place since it was mapped would raise SIGBUS on access
        // (BAD_INPUTS.md item 16); check() catches that before the bytes are handed out.
        if (auto st = s.file->check(); !st)
            return Result<StorageBytes>::failure(st.kind(), QStringLiteral("'%1' cannot be read: %2").arg(qs(s.name), st.error()));
        StorageBytes b;
        b.owner = s.file;
        b.data = s.file->data() + s.offset;
        b.size = s.size;
        return b;
    }

private:
    std::vector<StorageSpan> m_spans;
};

// ---------------------------------------------------------------------------------------
// Header parsing

/// Offset of the first byte that is not part of well-formed UTF-8 (no overlong forms, no
/// surrogates, nothing above U+10FFFF), or -1.
std::int64_t invalidUtf8At(const std::uint8_t* s, std::size_t n)
{
    std::size_t i = 0;
    while (i < n) {
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
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return std::int64_t(i);
        i += len;
    }
    return -1;
}

/// Decodes one JSON string literal (quotes included), escapes and all.
std::string decodeJsonString(const char* begin, const char* end)
{
    if (std::find(begin + 1, end - 1, '\\') == end - 1)
        return std::string(begin + 1, end - 1);
    const QByteArray wrapped = '[' + QByteArray(begin, qsizetype(end - begin)) + ']';
    return QJsonDocument::fromJson(wrapped).array().at(0).toString().toStdString();
}

struct DuplicateKey {
    int depth = 0;       // 1: a top-level key, 2: a key inside a top-level value
    std::string parent;  // the top-level key holding it (depth 2)
    std::string key;
};

/// For the shard index, which is read with QJsonDocument: QJsonObject keeps one value per
/// key, which would hide a tensor listed twice in weight_map. So the raw text (already
/// validated by QJsonDocument) is scanned for keys repeated in the top-level object or in
/// the objects directly inside it, and optionally for the top-level keys in order.
std::optional<DuplicateKey> scanKeys(const QByteArray& json, std::vector<std::string>* rootKeys)
{
    struct Level {
        bool object = false;
        bool expectKey = false;
        std::string lastKey;
        std::unordered_set<std::string> keys;
    };
    std::vector<Level> stack;
    const char* p = json.constData();
    const std::size_t n = std::size_t(json.size());
    for (std::size_t i = 0; i < n; ++i) {
        switch (p[i]) {
        case '{':
            stack.push_back({true, true, {}, {}});
            break;
        case '[':
            stack.push_back({false, false, {}, {}});
            break;
        case '}':
        case ']':
            if (!stack.empty())
                stack.pop_back();
            break;
        case ',':
            if (!stack.empty() && stack.back().object)
                stack.back().expectKey = true;
            break;
        case '"': {
            std::size_t j = i + 1;
            while (j < n && p[j] != '"')
                j += p[j] == '\\' ? 2 : 1;
            if (j >= n)
                return std::nullopt;  // cannot happen after QJsonDocument accepted the text
            if (!stack.empty() && stack.back().object && stack.back().expectKey) {
                Level& level = stack.back();
                level.expectKey = false;
                if (stack.size() <= 2) {
                    std::string key = decodeJsonString(p + i, p + j + 1);
                    if (!level.keys.insert(key).second)
                        return DuplicateKey{int(stack.size()), stack.size() == 2 ? stack.front().lastKey : std::string(),
                                            key};
                    if (stack.size() == 1 && rootKeys)
                        rootKeys->push_back(key);
                    level.lastKey = std::move(key);
                }
            }
            i = j;
            break;
        }
        default:
            break;
        }
    }
    return std::nullopt;
}

/// Codes of the specification that have no ParamScope dtype: their tensors are listed
/// (and their sizes checked) but their values cannot be shown.
int specOnlyDtypeBits(const QString& code)
{
    static const std::pair<const char*, int> kCodes[] = {{"F4", 4},      {"F6_E2M3", 6},     {"F6_E3M2", 6},
                                                         {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}};
    for (const auto& [name, bits] : kCodes)
        if (code == QLatin1String(name))
            return bits;
    return 0;
}

struct HeaderTensor {
    std::string name;
    QString code;  // dtype as written
    DType dtype = DType::Unknown;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;  // relative to the data buffer
};

struct Header {
    std::uint64_t dataStart = 0;  // absolute offset of the data buffer
    std::uint64_t dataSize = 0;
    std::vector<HeaderTensor> tensors;  // in data order
    QMap<QString, QString> metadata;
    QStringList warnings;
};

/// A JSON number as written, classified for fields that must hold whole numbers >= 0.
struct JsonNumber {
    bool whole = false;     // no sign, fraction or exponent, and fits in 64 bits
    std::uint64_t value = 0;
    QString text;
};

/// A strict, allocation-light JSON reader for the safetensors header (RFC 8259 grammar;
/// the text was already checked to be UTF-8). It reads the header straight into
/// HeaderTensors in the file's order, with integers exact to 64 bits, and stops at the
/// first problem with its byte offset. Qt's QJsonDocument would do the syntax, but it
/// keeps one value per key (hiding a duplicated tensor name), reorders keys, holds
/// numbers as doubles, and takes seconds on a 20 MB header of 200k tensors.
class HeaderParser {
public:
    HeaderParser(const char* text, std::size_t size) : m_begin(text), m_p(text), m_end(text + size) {}

    const QString& error() const { return m_error; }

    bool parse(Header& h)
    {
        skipSpace();
        if (m_p == m_end || *m_p != '{')
            return fail(QStringLiteral("the header is not a JSON object"), false);
        ++m_p;
        bool sawMetadata = false;
        skipSpace();
        if (peek('}')) {
            ++m_p;
        } else {
            for (;;) {
                std::string key;
                skipSpace();
                if (!parseString(key) || !expect(':'))
                    return false;
                if (key == "__metadata__") {
                    if (sawMetadata)
                        return fail(QStringLiteral("the name '__metadata__' appears twice in the header"), false);
                    sawMetadata = true;
                    if (!parseMetadata(h.metadata))
                        return false;
                } else {
                    HeaderTensor t;
                    t.name = std::move(key);
                    if (!parseTensor(t))
                        return false;
                    h.tensors.push_back(std::move(t));
                }
                skipSpace();
                if (peek(',')) {
                    ++m_p;
                    continue;
                }
                if (!expect('}'))
                    return false;
                break;
            }
        }
        skipSpace();
        if (m_p != m_end)
            return syntax("unexpected text after the header object");
        return true;
    }

private:
    bool fail(const QString& problem, bool withOffset = false)
    {
        m_error = withOffset ? QStringLiteral("%1 at byte %2").arg(argText(problem), argText(m_p - m_begin)) : problem;
        return false;
    }
    bool syntax(const char* what)
    {
        return fail(QStringLiteral("the header is not valid JSON: %1").arg(QLatin1String(what)), true);
    }

    void skipSpace()
    {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }
    bool peek(char c) const { return m_p != m_end && *m_p == c; }
    bool expect(char c)
    {
        skipSpace();
        if (!peek(c)) {
            static const char* names[] = {"expected ':'", "expected ',' or '}'", "expected ',' or ']'", "expected '['"};
            return syntax(c == ':' ? names[0] : c == '}' ? names[1] : c == ']' ? names[2] : names[3]);
        }
        ++m_p;
        return true;
    }

    static int hexDigit(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }
    bool hex4(std::uint32_t* out)
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
    static void appendUtf8(std::string& s, std::uint32_t cp)
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

    /// A string literal, escapes decoded (names compare by their decoded text).
    bool parseString(std::string& out)
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
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
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

    /// A number token; `whole` when it is a non-negative integer that fits in 64 bits.
    bool parseNumber(JsonNumber& n)
    {
        const char* start = m_p;
        bool negative = false, integral = true, overflow = false;
        if (peek('-')) {
            negative = true;
            ++m_p;
        }
        if (m_p == m_end || *m_p < '0' || *m_p > '9')
            return syntax("invalid number");
        if (*m_p == '0') {
            ++m_p;
        } else {
            while (m_p != m_end && *m_p >= '0' && *m_p <= '9') {
                const std::uint64_t digit = std::uint64_t(*m_p - '0');
                if (n.value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
                    overflow = true;
                n.value = n.value * 10 + digit;
                ++m_p;
            }
        }
        if (peek('.')) {
            integral = false;
            ++m_p;
            if (m_p == m_end || *m_p < '0' || *m_p > '9')
                return syntax("invalid number");
            while (m_p != m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        if (peek('e') || peek('E')) {
            integral = false;
            ++m_p;
            if (peek('+') || peek('-'))
                ++m_p;
            if (m_p == m_end || *m_p < '0' || *m_p > '9')
                return syntax("invalid number");
            while (m_p != m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        n.whole = !negative && integral && !overflow;
        n.text = QString::fromLatin1(start, qsizetype(m_p - start));
        return true;
    }

    /// Skips any value; `text` gets a short rendering of it for messages.
    bool skipValue(QString* text, int depth = 0)
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
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++m_p;
            skipSpace();
            if (peek(close)) {
                ++m_p;
            } else {
                for (;;) {
                    if (c == '{') {
                        std::string key;
                        skipSpace();
                        if (!parseString(key) || !expect(':'))
                            return false;
                    }
                    if (!skipValue(nullptr, depth + 1))
                        return false;
                    skipSpace();
                    if (peek(',')) {
                        ++m_p;
                        continue;
                    }
                    if (!expect(close))
                        return false;
                    break;
                }
            }
            if (text)
                *text = c == '{' ? QStringLiteral("an object") : QStringLiteral("an array");
            return true;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            JsonNumber n;
            if (!parseNumber(n))
                return false;
            if (text)
                *text = n.text;
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

    /// An array of numbers; `text` renders it for messages.
    bool parseNumberArray(std::vector<JsonNumber>& out, bool* isArray, QString* text)
    {
        skipSpace();
        if (!peek('[')) {
            *isArray = false;
            return skipValue(text);
        }
        *isArray = true;
        ++m_p;
        skipSpace();
        if (peek(']')) {
            ++m_p;
        } else {
            for (;;) {
                skipSpace();
                if (!peek('-') && !(m_p != m_end && *m_p >= '0' && *m_p <= '9')) {
                    // Not a number: keep the array's text short and let the caller explain.
                    QString item;
                    if (!skipValue(&item))
                        return false;
                    JsonNumber bad;
                    bad.text = item;
                    out.push_back(bad);
                } else {
                    JsonNumber n;
                    if (!parseNumber(n))
                        return false;
                    out.push_back(std::move(n));
                }
                skipSpace();
                if (peek(',')) {
                    ++m_p;
                    continue;
                }
                if (!expect(']'))
                    return false;
                break;
            }
        }
        QStringList parts;
        for (const auto& n : out)
            parts << n.text;
        *text = QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
        return true;
    }

    bool parseMetadata(QMap<QString, QString>& meta)
    {
        skipSpace();
        if (!peek('{')) {
            QString text;
            if (!skipValue(&text))
                return false;
            if (text == QLatin1String("null"))
                return true;  // the reference accepts a null __metadata__
            return fail(QStringLiteral("'__metadata__' is %1, not an object of strings").arg(text));
        }
        ++m_p;
        skipSpace();
        if (peek('}')) {
            ++m_p;
            return true;
        }
        for (;;) {
            std::string key;
            skipSpace();
            if (!parseString(key) || !expect(':'))
                return false;
            const QString qkey = utf8ToQString(key);
            if (meta.contains(qkey))
                return fail(QStringLiteral("'__metadata__' has the field '%1' twice").arg(qkey));
            skipSpace();
            if (!peek('"')) {
                QString text;
                if (!skipValue(&text))
                    return false;
                return fail(QStringLiteral("'__metadata__' entry '%1' is %2, not a string").arg(qkey, text));
            }
            std::string value;
            if (!parseString(value))
                return false;
            meta.insert(qkey, utf8ToQString(value));
            skipSpace();
            if (peek(',')) {
                ++m_p;
                continue;
            }
            return expect('}');
        }
    }

    bool parseTensor(HeaderTensor& t)
    {
        const auto where = [&] { return QStringLiteral("tensor '%1'").arg(utf8ToQString(t.name)); };
        skipSpace();
        if (!peek('{')) {
            QString text;
            if (!skipValue(&text))
                return false;
            return fail(QStringLiteral("%1 is %2, not an object with dtype, shape and data_offsets").arg(where(), text));
        }
        ++m_p;
        bool haveDtype = false, haveShape = false, haveOffsets = false;
        QString dtypeText = QStringLiteral("nothing"), shapeText = QStringLiteral("nothing"),
                offsetsText = QStringLiteral("nothing");
        bool dtypeIsString = false, shapeIsArray = false, offsetsIsArray = false;
        std::vector<JsonNumber> shape, offsets;
        skipSpace();
        if (peek('}')) {
            ++m_p;
        } else {
            for (;;) {
                std::string field;
                skipSpace();
                if (!parseString(field) || !expect(':'))
                    return false;
                bool* seen = field == "dtype" ? &haveDtype
                    : field == "shape"        ? &haveShape
                    : field == "data_offsets" ? &haveOffsets
                                              : nullptr;
                if (seen && *seen)
                    return fail(QStringLiteral("'%1' has the field '%2' twice")
                                    .arg(utf8ToQString(t.name), QString::fromStdString(field)));
                if (seen)
                    *seen = true;
                if (field == "dtype") {
                    skipSpace();
                    if (peek('"')) {
                        std::string code;
                        if (!parseString(code))
                            return false;
                        dtypeIsString = true;
                        t.code = QString::fromStdString(code);
                    } else if (!skipValue(&dtypeText)) {
                        return false;
                    }
                } else if (field == "shape") {
                    if (!parseNumberArray(shape, &shapeIsArray, &shapeText))
                        return false;
                } else if (field == "data_offsets") {
                    if (!parseNumberArray(offsets, &offsetsIsArray, &offsetsText))
                        return false;
                } else if (!skipValue(nullptr)) {  // unknown fields are ignored, as by the reference
                    return false;
                }
                skipSpace();
                if (peek(',')) {
                    ++m_p;
                    continue;
                }
                if (!expect('}'))
                    return false;
                break;
            }
        }
        if (!dtypeIsString)
            return fail(QStringLiteral("%1 has no dtype string (dtype is %2)").arg(where(), dtypeText));
        if (!shapeIsArray)
            return fail(QStringLiteral("%1 has no shape array (shape is %2)").arg(where(), shapeText));
        for (const JsonNumber& d : shape) {
            if (!d.whole || d.value > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                return fail(
                    QStringLiteral("%1 has the invalid dimension %2 in its shape (dimensions are whole numbers >= 0)")
                        .arg(where(), d.text));
            t.shape.push_back(std::int64_t(d.value));
        }
        if (!offsetsIsArray || offsets.size() != 2 || !offsets[0].whole || !offsets[1].whole)
            return fail(QStringLiteral("%1 has invalid data_offsets (%2): they must be two whole numbers [begin, end]")
                            .arg(where(), offsetsText));
        t.begin = offsets[0].value;
        t.end = offsets[1].value;
        return true;
    }

    const char* m_begin;
    const char* m_p;
    const char* m_end;
    QString m_error;
};

/// Parses and checks a whole safetensors header against the file's size, as the reference
/// implementation does (huggingface/safetensors `Metadata::validate`): every tensor's
/// bytes inside the data buffer, sized numel x item size, the tensors tiling the buffer
/// exactly (no overlap, no gap, nothing left over). Nothing past the header is touched.
Result<Header> parseHeader(const std::uint8_t* file, std::uint64_t fileSize, const QString& path)
{
    auto fail = [&](const QString& problem) { return Result<Header>::failure(invalidFile(path, problem)); };
    if (fileSize < 8)
        return fail(QStringLiteral("it is only %1 bytes long, and a safetensors file starts with an 8-byte header length")
                        .arg(fileSize));
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | file[i];
    if (n > kSafetensorsMaxHeaderBytes)
        return fail(QStringLiteral("header length %1 is above the limit of %2 bytes").arg(argText(n), argText(kSafetensorsMaxHeaderBytes)));
    if (n > fileSize - 8)
        return fail(
            QStringLiteral("header length %1 is larger than the rest of the file (%2 bytes)").arg(argText(n), argText(fileSize - 8)));
    if (n < 2)
        return fail(QStringLiteral("header length %1 is too short for a JSON object").arg(n));
    const std::uint8_t* json = file + 8;
    if (const std::int64_t bad = invalidUtf8At(json, std::size_t(n)); bad >= 0)
        return fail(QStringLiteral("the header is not valid UTF-8 (byte %1 of the header)").arg(bad));

    Header h;
    h.dataStart = 8 + n;
    h.dataSize = fileSize - h.dataStart;
    HeaderParser parser(reinterpret_cast<const char*>(json), std::size_t(n));
    if (!parser.parse(h))
        return fail(parser.error());

    // Duplicate names, found by sorting (no per-name allocation).
    {
        std::vector<const std::string*> names;
        names.reserve(h.tensors.size());
        for (const HeaderTensor& t : h.tensors)
            names.push_back(&t.name);
        std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
        for (std::size_t i = 1; i < names.size(); ++i)
            if (*names[i] == *names[i - 1])
                return fail(QStringLiteral("the name '%1' appears twice in the header").arg(qs(*names[i])));
    }

    for (HeaderTensor& t : h.tensors) {
        const auto where = [&] { return QStringLiteral("tensor '%1'").arg(qs(t.name)); };
        const auto range = [&] { return QStringLiteral("[%1, %2]").arg(argText(t.begin), argText(t.end)); };
        int bits = 0;
        if (auto dt = dtypeFromSafetensors(t.code.toStdString())) {
            t.dtype = *dt;
            bits = dtypeItemSize(*dt) * 8;
        } else if ((bits = specOnlyDtypeBits(t.code)) > 0) {
            h.warnings << QStringLiteral("'%1' in '%2' has dtype %3, which ParamScope cannot show; it is listed without values")
                              .arg(qs(t.name), fileLabel(path), t.code);
        } else {
            return fail(QStringLiteral("%1 has the unknown dtype '%2'").arg(where(), t.code));
        }
        std::int64_t numel = 1;
        if (std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end())
            numel = 0;
        else
            for (const std::int64_t dim : t.shape)
                if (__builtin_mul_overflow(numel, dim, &numel))
                    return fail(QStringLiteral("%1: the element count of its shape %2 overflows")
                                    .arg(where(), formatShape(t.shape)));
        if (t.end < t.begin)
            return fail(QStringLiteral("%1 has data_offsets %2 that end before they begin").arg(where(), range()));
        if (t.end > h.dataSize)
            return fail(QStringLiteral("%1 has data_offsets %2 outside the data buffer (%3 bytes)")
                            .arg(argText(where()), argText(range()), argText(h.dataSize)));
        std::int64_t totalBits = 0;
        if (__builtin_mul_overflow(numel, std::int64_t(bits), &totalBits))
            return fail(QStringLiteral("%1: the byte size of its shape overflows").arg(where()));
        if (totalBits % 8 != 0)
            return fail(QStringLiteral("%1 (%2 elements of %3 bits) does not fill a whole number of bytes")
                            .arg(argText(where()), argText(numel), argText(bits)));
        const std::uint64_t expected = std::uint64_t(totalBits / 8);
        if (t.end - t.begin != expected)
            return fail(QStringLiteral("%1 has data_offsets %2 spanning %3 bytes, but dtype %4 with shape %5 needs %6 bytes")
                            .arg(argText(where()), argText(range()), argText(t.end - t.begin), argText(t.code), argText(formatShape(t.shape)), argText(expected)));
    }

    // safetensors has no module order; the data order is the writer's order, so entries
    // follow it (ties, i.e. empty tensors at one offset, keep the header's order).
    std::stable_sort(h.tensors.begin(), h.tensors.end(), [](const HeaderTensor& a, const HeaderTensor& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t cursor = 0;
    const HeaderTensor* previous = nullptr;
    for (const HeaderTensor& t : h.tensors) {
        if (t.begin < cursor)
            return fail(QStringLiteral("tensors '%1' (bytes %2 to %3) and '%4' (bytes %5 to %6) overlap")
                            .arg(argText(qs(previous->name)), argText(previous->begin), argText(previous->end), argText(qs(t.name)), argText(t.begin), argText(t.end)));
        if (t.begin > cursor)
            return fail(QStringLiteral("bytes %1 to %2 of the data buffer belong to no tensor (a gap before '%3')")
                            .arg(argText(cursor), argText(t.begin), argText(qs(t.name))));
        cursor = t.end;
        previous = &t;
    }
    if (cursor != h.dataSize)
        return fail(QStringLiteral("the last %1 bytes of the data buffer (%2 bytes) belong to no tensor")
                        .arg(argText(h.dataSize - cursor), argText(h.dataSize)));
    return h;
}

/// A short rendering of a JSON value for messages.
QString jsonValueText(const QJsonValue& v)
{
    if (v.isDouble()) {
        const qint64 i = v.toInteger(std::numeric_limits<qint64>::min());
        return i != std::numeric_limits<qint64>::min() ? QString::number(i) : QString::number(v.toDouble(), 'g', 17);
    }
    if (v.isString())
        return QLatin1Char('"') + v.toString().left(40) + QLatin1Char('"');
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isNull())
        return QStringLiteral("null");
    if (v.isArray())
        return QStringLiteral("an array");
    if (v.isObject())
        return QStringLiteral("an object");
    return QStringLiteral("nothing");
}

struct OpenedFile {
    std::shared_ptr<const MappedFile> file;
    Header header;
};

Result<OpenedFile> openFile(const QString& path)
{
    if (auto st = detail::checkReadableFile(path); !st)
        return Result<OpenedFile>::failureFrom(st);
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return Result<OpenedFile>::failureFrom(mapped);
    if (mapped.value()->size() == 0)
        return Result<OpenedFile>::failure(QStringLiteral("'%1' is empty (0 bytes)").arg(fileLabel(path)));
    auto header = parseHeader(mapped.value()->data(), mapped.value()->size(), path);
    if (auto st = mapped.value()->check(); !st)  // truncated while the header was read
        return Result<OpenedFile>::failureFrom(st);
    if (!header)
        return Result<OpenedFile>::failureFrom(header);
    return OpenedFile{std::move(mapped.value()), std::move(header.value())};
}

void appendTensor(ModelIndex& index, std::vector<StorageSpan>& spans, const OpenedFile& f, const HeaderTensor& t)
{
    if (t.name.size() > limits::kMaxNameBytes) {
        index.warnings << QStringLiteral("a tensor whose name is longer than %1 bytes is skipped (it starts '%2…')")
                              .arg(argText(std::int64_t(limits::kMaxNameBytes)), qs(t.name.substr(0, 60)));
        return;
    }
    TensorEntry e;
    e.name = t.name;
    e.kind = TensorKind::Tensor;
    e.dtype = t.dtype;
    e.shape = t.shape;
    e.strides = contiguousStrides(t.shape);
    e.storage = int(index.storages.size());
    index.entries.push_back(std::move(e));
    index.storages.push_back(StorageInfo{t.name, t.dtype, t.end - t.begin});
    spans.push_back(StorageSpan{f.file, f.header.dataStart + t.begin, t.end - t.begin, t.name});
}

/// finalize() sizes entries from their dtype; dtypes ParamScope lacks still occupy bytes.
void finishIndex(ModelIndex& index)
{
    index.finalize();
    for (auto& e : index.entries)
        if (e.dtype == DType::Unknown && e.storage >= 0)
            e.bytes = std::int64_t(index.storages[size_t(e.storage)].byteSize);
}

LoadResult loadSingle(const QString& path, const LoadOptions& options)
{
    report(options, 0.0, QStringLiteral("Reading safetensors header"));
    auto opened = openFile(path);
    if (!opened)
        return LoadResult::failureFrom(opened);
    if (cancelled(options))
        return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
    auto index = std::make_shared<ModelIndex>();
    index->filePath = path;
    index->format = ModelFormat::Safetensors;
    index->engine = QStringLiteral("native");
    index->metadata = opened->header.metadata;
    index->warnings = opened->header.warnings;
    std::vector<StorageSpan> spans;
    spans.reserve(opened->header.tensors.size());
    for (const HeaderTensor& t : opened->header.tensors)
        appendTensor(*index, spans, opened.value(), t);
    index->provider = std::make_shared<SafetensorsProvider>(std::move(spans));
    finishIndex(*index);
    report(options, 1.0, QStringLiteral("Done"));
    return std::shared_ptr<const ModelIndex>(std::move(index));
}

/// A shard named in weight_map must stay inside the index's folder: the index is as
/// untrusted as the shards, and must not make the reader open arbitrary files.
bool shardNameIsSafe(const QString& shard)
{
    if (shard.isEmpty() || QDir::isAbsolutePath(shard) || shard.contains(QLatin1Char('\\')) || shard.contains(QChar(0)))
        return false;
    for (const QString& part : shard.split(QLatin1Char('/')))
        if (part == QLatin1String(".."))
            return false;
    return true;
}

Result<QJsonObject> readIndexJson(const QString& path)
{
    using R = Result<QJsonObject>;
    const QString name = fileLabel(path);
    auto bad = [&](const QString& problem) {
        return R::failure(QStringLiteral("'%1' is not a valid sharded safetensors index: %2").arg(name, problem));
    };
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return R::failure(QStringLiteral("'%1' cannot be opened: %2").arg(name, f.errorString()));
    if (std::uint64_t(f.size()) > kSafetensorsMaxHeaderBytes)
        return bad(QStringLiteral("it is %1 bytes, above the limit of %2").arg(argText(f.size()), argText(kSafetensorsMaxHeaderBytes)));
    const QByteArray text = f.readAll();
    if (const auto at = invalidUtf8At(reinterpret_cast<const std::uint8_t*>(text.constData()), size_t(text.size()));
        at >= 0)
        return bad(QStringLiteral("it is not valid UTF-8 (byte %1)").arg(at));
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(text, &err);
    if (err.error != QJsonParseError::NoError)
        return bad(QStringLiteral("it is not valid JSON: %1 at byte %2").arg(argText(err.errorString()), argText(err.offset)));
    if (!doc.isObject())
        return bad(QStringLiteral("it is not a JSON object"));
    if (auto dup = scanKeys(text, nullptr)) {
        if (dup->depth == 2 && dup->parent == "weight_map")
            return bad(QStringLiteral("the tensor '%1' is listed twice in weight_map").arg(qs(dup->key)));
        return bad(QStringLiteral("the key '%1' appears twice").arg(qs(dup->key)));
    }
    const QJsonObject root = doc.object();
    if (!root.value(QLatin1String("weight_map")).isObject())
        return bad(QStringLiteral("it has no \"weight_map\" object"));
    return root;
}

LoadResult loadSharded(const QString& indexPath, const LoadOptions& options)
{
    const QString indexName = fileLabel(indexPath);
    auto bad = [&](const QString& problem) {
        return LoadResult::failure(
            QStringLiteral("'%1' is not a valid sharded safetensors index: %2").arg(indexName, problem));
    };
    report(options, 0.0, QStringLiteral("Reading shard index"));
    auto root = readIndexJson(indexPath);
    if (!root)
        return LoadResult::failureFrom(root);
    const QJsonObject weightMap = root->value(QLatin1String("weight_map")).toObject();

    // Shards in name order: writers number them (model-00001-of-00003.safetensors), so
    // that is the order they were written in.
    std::map<QString, std::unordered_set<std::string>> shards;
    std::unordered_map<std::string, QString> shardOf;
    for (auto it = weightMap.begin(); it != weightMap.end(); ++it) {
        if (!it.value().isString())
            return bad(QStringLiteral("weight_map entry '%1' is %2, not a shard file name")
                           .arg(it.key(), jsonValueText(it.value())));
        const QString shard = it.value().toString();
        if (!shardNameIsSafe(shard))
            return bad(QStringLiteral("weight_map puts '%1' in '%2', which is not a file inside the index's folder")
                           .arg(it.key(), shard));
        shards[shard].insert(it.key().toStdString());
        shardOf.emplace(it.key().toStdString(), shard);
    }

    auto index = std::make_shared<ModelIndex>();
    index->filePath = indexPath;
    index->format = ModelFormat::ShardedSafetensors;
    index->engine = QStringLiteral("native");
    const QJsonObject meta = root->value(QLatin1String("metadata")).toObject();
    for (auto it = meta.begin(); it != meta.end(); ++it)
        index->metadata.insert(it.key(), it.value().isString() ? it.value().toString() : jsonValueText(it.value()));

    const QDir folder = QFileInfo(indexPath).absoluteDir();
    std::vector<StorageSpan> spans;
    std::unordered_set<std::string> seen;
    int done = 0;
    for (const auto& [shard, names] : shards) {
        if (cancelled(options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
        report(options, double(done) / double(shards.size()), QStringLiteral("Reading shard %1").arg(shard));
        index->sourceFiles << folder.filePath(shard);
        auto opened = openFile(folder.filePath(shard));
        if (!opened)
            return LoadResult::failure(
                QStringLiteral("Sharded checkpoint '%1': shard '%2' (%3 tensors in weight_map) cannot be read: %4")
                    .arg(argText(indexName), argText(shard), argText(names.size()), argText(opened.error())));
        std::unordered_set<std::string> present;
        for (const HeaderTensor& t : opened->header.tensors)
            present.insert(t.name);
        // Report the missing name that sorts first, so the message does not depend on hashing.
        std::set<std::string> missing;
        for (const std::string& name : names)
            if (!present.count(name))
                missing.insert(name);
        if (!missing.empty())
            return LoadResult::failure(
                QStringLiteral("Sharded checkpoint '%1': weight_map puts '%2' in shard '%3', but that shard does not "
                               "contain it%4")
                    .arg(indexName, qs(*missing.begin()), shard,
                         missing.size() > 1 ? QStringLiteral(" (nor %1 other listed tensors)").arg(missing.size() - 1)
                                            : QString()));
        for (const HeaderTensor& t : opened->header.tensors) {
            if (!names.count(t.name)) {
                const auto other = shardOf.find(t.name);
                if (other != shardOf.end() || seen.count(t.name)) {
                    index->warnings << QStringLiteral("Shard '%1' also holds '%2', which weight_map puts in '%3'; that "
                                                      "copy is ignored")
                                           .arg(shard, qs(t.name), other != shardOf.end() ? other->second : QString());
                    continue;
                }
                index->warnings << QStringLiteral("Shard '%1' holds '%2', which weight_map does not list").arg(shard, qs(t.name));
            }
            seen.insert(t.name);
            appendTensor(*index, spans, opened.value(), t);
        }
        index->warnings << opened->header.warnings;
        for (auto it = opened->header.metadata.cbegin(); it != opened->header.metadata.cend(); ++it)
            if (!index->metadata.contains(it.key()))
                index->metadata.insert(it.key(), it.value());
        ++done;
    }
    if (cancelled(options))
        return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
    index->provider = std::make_shared<SafetensorsProvider>(std::move(spans));
    finishIndex(*index);
    report(options, 1.0, QStringLiteral("Done"));
    return std::shared_ptr<const ModelIndex>(std::move(index));
}

bool hasJsonName(const QString& path) { return path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive); }

/// A plausible header length (fits the file and the limit) followed by '{'.
bool startsLikeSafetensors(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray head = f.read(9);
    if (head.size() < 9 || head.at(8) != '{')
        return false;
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | std::uint8_t(head.at(i));
    return n >= 2 && n <= kSafetensorsMaxHeaderBytes && n <= std::uint64_t(f.size()) - 8;
}

bool startsLikeZip(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) && f.read(4) == QByteArrayLiteral("PK\x03\x04");
}

}  // namespace

namespace detail {

bool isSafetensorsFile(const QString& path)
{
    if (path.endsWith(QLatin1String(".safetensors"), Qt::CaseInsensitive))
        return !startsLikeZip(path);  // a misnamed PyTorch archive goes to the archive reader
    if (path.endsWith(QLatin1String(".safetensors.index.json"), Qt::CaseInsensitive))
        return true;
    if (path.endsWith(QLatin1String(".index.json"), Qt::CaseInsensitive))
        return bool(readIndexJson(path));
    return startsLikeSafetensors(path);
}

LoadResult loadSafetensors(const QString& path, const LoadOptions& options)
{
    if (hasJsonName(path) && !startsLikeSafetensors(path))
        return loadSharded(path, options);
    return loadSingle(path, options);
}

}  // namespace detail

}  // namespace paramscope
