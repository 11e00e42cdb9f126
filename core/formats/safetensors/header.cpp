// The safetensors header: its JSON schema read with the strict JSON reader (an object of
// tensors, each {dtype, shape, data_offsets}, and an optional __metadata__ object of strings),
// then every tensor checked against the file as the reference implementation checks it.

#include "formats/safetensors/header_p.h"
#include "formats/safetensors/safetensorsreader.h"
#include "formats/safetensors/strictjson.h"

#include "base/textutil.h"
#include "model/modelindex.h"

#include <QFileInfo>

#include <algorithm>
#include <functional>
#include <limits>
#include <string_view>

namespace paramscope::safetensors {

QString fileLabel(const QString& path)
{
    const QString name = QFileInfo(path).fileName();
    return name.isEmpty() ? path : name;
}

namespace {

QString qs(const std::string& s)
{
    return utf8ToQString(s);
}

/// Codes of the specification that have no ParamScope dtype: their tensors are listed
/// (and their sizes checked) but their values cannot be shown.
int specOnlyDtypeBits(const std::string& code)
{
    static const std::pair<const char*, int> kCodes[] = {{"F4", 4},      {"F6_E2M3", 6},     {"F6_E3M2", 6},
                                                         {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}};
    for (const auto& [name, bits] : kCodes)
        if (code == name)
            return bits;
    return 0;
}

/// The header's schema over the strict JSON reader: reads the tensors straight into
/// HeaderTensors in the file's order and stops at the first problem.
class HeaderParser {
public:
    HeaderParser(const char* text, std::size_t size) : m_json(text, size), m_size(size)
    {
        m_json.setSyntaxPrefix(QStringLiteral("the header is not valid JSON"));
    }

    const QString& error() const { return m_json.error(); }

    bool parse(Header& h)
    {
        if (!m_json.at('{'))
            return m_json.fail(QStringLiteral("the header is not a JSON object"));
        bool sawMetadata = false;
        // A tensor takes at least 50 bytes of text ({"dtype":"U8","shape":[],"data_offsets":[0,0]}
        // and its name): room for the usual count, never far more than the text holds.
        h.tensors.reserve(m_size / 64);
        const bool ok = m_json.readObjectViews([&](std::string_view key) {
            if (key == "__metadata__") {
                if (sawMetadata)
                    return m_json.fail(QStringLiteral("the name '__metadata__' appears twice in the header"));
                sawMetadata = true;
                return parseMetadata(h.metadata);
            }
            HeaderTensor t;
            t.name = std::string(key);
            if (!parseTensor(t))
                return false;
            h.tensors.push_back(std::move(t));
            return true;
        });
        return ok && m_json.finish("unexpected text after the header object");
    }

private:
    bool parseMetadata(QMap<QString, QString>& meta)
    {
        if (!m_json.at('{')) {
            QString text;
            if (!m_json.skipValue(&text))
                return false;
            if (text == QLatin1String("null"))
                return true;  // the reference accepts a null __metadata__
            return m_json.fail(QStringLiteral("'__metadata__' is %1, not an object of strings").arg(text));
        }
        return m_json.readObject([&](std::string&& key) {
            const QString qkey = utf8ToQString(key);
            if (meta.contains(qkey))
                return m_json.fail(QStringLiteral("'__metadata__' has the field '%1' twice").arg(qkey));
            if (!m_json.at('"')) {
                QString text;
                if (!m_json.skipValue(&text))
                    return false;
                return m_json.fail(QStringLiteral("'__metadata__' entry '%1' is %2, not a string").arg(qkey, text));
            }
            std::string value;
            if (!m_json.parseString(value))
                return false;
            meta.insert(qkey, utf8ToQString(value));
            return true;
        });
    }

    /// The fields of one tensor object as written, before they are checked.
    struct Fields {
        bool haveDtype = false, haveShape = false, haveOffsets = false;
        QString dtypeText = QStringLiteral("nothing"), shapeText = QStringLiteral("nothing"),
                offsetsText = QStringLiteral("nothing");
        bool dtypeIsString = false, shapeIsArray = false, offsetsIsArray = false;
        std::vector<json::Number> shape, offsets;
        void reset()
        {
            haveDtype = haveShape = haveOffsets = false;
            dtypeText = shapeText = offsetsText = QStringLiteral("nothing");
            dtypeIsString = shapeIsArray = offsetsIsArray = false;
            shape.clear();
            offsets.clear();
        }
    };

    bool parseField(HeaderTensor& t, Fields& f, std::string_view field)
    {
        bool* seen = field == "dtype"          ? &f.haveDtype
                     : field == "shape"        ? &f.haveShape
                     : field == "data_offsets" ? &f.haveOffsets
                                               : nullptr;
        if (seen && *seen)
            return m_json.fail(
                QStringLiteral("'%1' has the field '%2' twice").arg(utf8ToQString(t.name), utf8ToQString(field)));
        if (seen)
            *seen = true;
        if (field == "dtype") {
            if (!m_json.at('"'))
                return m_json.skipValue(&f.dtypeText);
            std::string code;
            if (!m_json.parseString(code))
                return false;
            f.dtypeIsString = true;
            t.code = std::move(code);
            return true;
        }
        if (field == "shape")
            return m_json.parseNumberArray(f.shape, &f.shapeIsArray, &f.shapeText);
        if (field == "data_offsets")
            return m_json.parseNumberArray(f.offsets, &f.offsetsIsArray, &f.offsetsText);
        return m_json.skipValue(nullptr);  // unknown fields are ignored, as by the reference
    }

    bool parseTensor(HeaderTensor& t)
    {
        const auto where = [&] { return QStringLiteral("tensor '%1'").arg(utf8ToQString(t.name)); };
        if (!m_json.at('{')) {
            QString text;
            if (!m_json.skipValue(&text))
                return false;
            return m_json.fail(
                QStringLiteral("%1 is %2, not an object with dtype, shape and data_offsets").arg(where(), text));
        }
        Fields& f = m_fields;  // reused: no allocation per tensor for its number arrays
        f.reset();
        if (!m_json.readObjectViews([&](std::string_view field) { return parseField(t, f, field); }))
            return false;
        if (!f.dtypeIsString)
            return m_json.fail(QStringLiteral("%1 has no dtype string (dtype is %2)").arg(where(), f.dtypeText));
        if (!f.shapeIsArray)
            return m_json.fail(QStringLiteral("%1 has no shape array (shape is %2)").arg(where(), f.shapeText));
        for (const json::Number& d : f.shape) {
            if (!d.whole || d.value > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                return m_json.fail(
                    QStringLiteral("%1 has the invalid dimension %2 in its shape (dimensions are whole numbers >= 0)")
                        .arg(where(), d.text()));
            t.shape.push_back(std::int64_t(d.value));
        }
        if (!f.offsetsIsArray || f.offsets.size() != 2 || !f.offsets[0].whole || !f.offsets[1].whole)
            return m_json.fail(
                QStringLiteral("%1 has invalid data_offsets (%2): they must be two whole numbers [begin, end]")
                    .arg(where(), f.offsetsIsArray ? json::renderArray(f.offsets) : f.offsetsText));
        t.begin = f.offsets[0].value;
        t.end = f.offsets[1].value;
        return true;
    }

    json::StrictReader m_json;
    std::size_t m_size;
    Fields m_fields;
};

QString invalidFile(const QString& path, const QString& problem)
{
    return QStringLiteral("'%1' is not a valid safetensors file: %2").arg(fileLabel(path), problem);
}

/// Checks one tensor's dtype, element count and byte range against the data buffer; an empty
/// string when it passes. `kind` is set for a failure.
QString checkTensor(HeaderTensor& t, Header& h, const QString& path, ErrorKind& kind)
{
    const auto where = [&] { return QStringLiteral("tensor '%1'").arg(qs(t.name)); };
    const auto range = [&] { return QStringLiteral("[%1, %2]").arg(argText(t.begin), argText(t.end)); };
    kind = ErrorKind::Corrupt;
    int bits = 0;
    if (auto dt = dtypeFromSafetensors(t.code)) {
        t.dtype = *dt;
        bits = dtypeItemSize(*dt) * 8;
    } else if ((bits = specOnlyDtypeBits(t.code)) > 0) {
        h.warnings << QStringLiteral(
                          "'%1' in '%2' has dtype %3, which ParamScope cannot show; it is listed without values")
                          .arg(qs(t.name), fileLabel(path), qs(t.code));
    } else {
        kind = ErrorKind::Unsupported;
        return QStringLiteral("%1 has the unknown dtype '%2'").arg(where(), qs(t.code));
    }
    std::int64_t numel = 1;
    if (std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end())
        numel = 0;
    else
        for (const std::int64_t dim : t.shape)
            if (__builtin_mul_overflow(numel, dim, &numel))
                return QStringLiteral("%1: the element count of its shape %2 overflows")
                    .arg(where(), formatShape(t.shape));
    if (t.end < t.begin)
        return QStringLiteral("%1 has data_offsets %2 that end before they begin").arg(where(), range());
    if (t.end > h.dataSize)
        return QStringLiteral("%1 has data_offsets %2 outside the data buffer (%3 bytes)")
            .arg(argText(where()), argText(range()), argText(h.dataSize));
    std::int64_t totalBits = 0;
    if (__builtin_mul_overflow(numel, std::int64_t(bits), &totalBits))
        return QStringLiteral("%1: the byte size of its shape overflows").arg(where());
    if (totalBits % 8 != 0)
        return QStringLiteral("%1 (%2 elements of %3 bits) does not fill a whole number of bytes")
            .arg(argText(where()), argText(numel), argText(bits));
    const std::uint64_t expected = std::uint64_t(totalBits / 8);
    if (t.end - t.begin != expected)
        return QStringLiteral("%1 has data_offsets %2 spanning %3 bytes, but dtype %4 with shape %5 needs %6 bytes")
            .arg(argText(where()), argText(range()), argText(t.end - t.begin), argText(qs(t.code)),
                 argText(formatShape(t.shape)), argText(expected));
    return {};
}

/// Sorts the tensors into data order and checks that they tile the data buffer exactly; an
/// empty string when they do.
QString checkTiling(Header& h)
{
    // safetensors has no module order; the data order is the writer's order, so entries
    // follow it (ties, i.e. empty tensors at one offset, keep the header's order).
    const auto dataOrder = [](const HeaderTensor& a, const HeaderTensor& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    };
    if (!std::is_sorted(h.tensors.begin(), h.tensors.end(), dataOrder))  // writers mostly write them in order
        std::stable_sort(h.tensors.begin(), h.tensors.end(), dataOrder);
    std::uint64_t cursor = 0;
    const HeaderTensor* previous = nullptr;
    for (const HeaderTensor& t : h.tensors) {
        if (t.begin < cursor)
            return QStringLiteral("tensors '%1' (bytes %2 to %3) and '%4' (bytes %5 to %6) overlap")
                .arg(argText(qs(previous->name)), argText(previous->begin), argText(previous->end), argText(qs(t.name)),
                     argText(t.begin), argText(t.end));
        if (t.begin > cursor)
            return QStringLiteral("bytes %1 to %2 of the data buffer belong to no tensor (a gap before '%3')")
                .arg(argText(cursor), argText(t.begin), argText(qs(t.name)));
        cursor = t.end;
        previous = &t;
    }
    if (cursor != h.dataSize)
        return QStringLiteral("the last %1 bytes of the data buffer (%2 bytes) belong to no tensor")
            .arg(argText(h.dataSize - cursor), argText(h.dataSize));
    return {};
}

bool hasDuplicateName(const std::vector<HeaderTensor>& tensors)
{
    std::size_t cap = 16;
    while (cap < tensors.size() * 2)
        cap *= 2;
    std::vector<std::uint32_t> slots(cap, UINT32_MAX);
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const std::string& name = tensors[i].name;
        for (std::size_t k = std::hash<std::string_view>()(name) & (cap - 1);; k = (k + 1) & (cap - 1)) {
            if (slots[k] == UINT32_MAX) {
                slots[k] = std::uint32_t(i);
                break;
            }
            if (tensors[slots[k]].name == name)
                return true;
        }
    }
    return false;
}

}  // namespace

Result<Header> parseHeader(const std::uint8_t* file, std::uint64_t fileSize, const QString& path)
{
    auto fail = [&](const QString& problem, ErrorKind kind = ErrorKind::Corrupt) {
        return Result<Header>::failure(kind, invalidFile(path, problem));
    };
    if (fileSize < 8)
        return fail(
            QStringLiteral("it is only %1 bytes long, and a safetensors file starts with an 8-byte header length")
                .arg(fileSize));
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | file[i];
    if (n > kSafetensorsMaxHeaderBytes)
        return fail(QStringLiteral("header length %1 is above the limit of %2 bytes")
                        .arg(argText(n), argText(kSafetensorsMaxHeaderBytes)),
                    ErrorKind::Limit);
    if (n > fileSize - 8)
        return fail(QStringLiteral("header length %1 is larger than the rest of the file (%2 bytes)")
                        .arg(argText(n), argText(fileSize - 8)));
    if (n < 2)
        return fail(QStringLiteral("header length %1 is too short for a JSON object").arg(n));
    const std::uint8_t* text = file + 8;
    if (const std::int64_t bad = json::invalidUtf8At(text, std::size_t(n)); bad >= 0)
        return fail(QStringLiteral("the header is not valid UTF-8 (byte %1 of the header)").arg(bad));

    Header h;
    h.dataStart = 8 + n;
    h.dataSize = fileSize - h.dataStart;
    HeaderParser parser(reinterpret_cast<const char*>(text), std::size_t(n));
    if (!parser.parse(h))
        return fail(parser.error());

    // Duplicate names: any, found by an open-addressing set of tensor indices; the one named
    // (the first in name order) by sorting, only then. No per-name allocation either way.
    if (hasDuplicateName(h.tensors)) {
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
        ErrorKind kind = ErrorKind::Corrupt;
        if (const QString problem = checkTensor(t, h, path, kind); !problem.isEmpty())
            return fail(problem, kind);
    }
    if (const QString problem = checkTiling(h); !problem.isEmpty())
        return fail(problem);
    return h;
}

}  // namespace paramscope::safetensors
