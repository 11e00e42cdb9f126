// The .csv writer: one tensor as text. 1-D one value per line, 2-D one row per line,
// comma-separated; other ranks flattened to (shape[0], rest), with a "# shape: [...]"
// comment line first whenever the rows alone do not give the shape (0-d, rank >= 3,
// empty). Floats use the shortest text that reads back to the same value, complex numbers
// Python's spelling ("1.5-2j"), bool 0/1 (or true/false on request).
#include "base/floatcodec.h"
#include "export/atomicoutput_p.h"
#include "export/writers_p.h"

#include <charconv>
#include <cmath>
#include <string>

namespace paramscope::exportdetail {

namespace {

void appendFloat(std::string& s, double v, bool single)
{
    if (std::isnan(v)) {
        s += "nan";
        return;
    }
    char buf[64];
    // Shortest text that reads back to the same value (at least as exact as max_digits10).
    auto r = single ? std::to_chars(buf, buf + sizeof buf, float(v)) : std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
}

template <typename I>
void appendInt(std::string& s, I v)
{
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
}

void appendComplex(std::string& s, const std::uint8_t* p, bool single)
{
    const double re = single ? double(load<float>(p)) : load<double>(p);
    const double im = single ? double(load<float>(p + 4)) : load<double>(p + 8);
    // Python's spelling, which NumPy's loadtxt(dtype=complex) reads: 1.5-2j, 0+1j.
    appendFloat(s, re, single);
    std::string imText;
    appendFloat(imText, im, single);
    if (imText[0] != '-')
        s += '+';
    s += imText;
    s += 'j';
}

void appendElement(std::string& s, const std::uint8_t* p, const TensorEntry& e, const Dequant& dq, std::int64_t index,
                   bool boolWords)
{
    switch (e.dtype) {
        case DType::Float32:
            appendFloat(s, load<float>(p), true);
            break;
        case DType::Float64:
            appendFloat(s, load<double>(p), false);
            break;
        case DType::Float16:
            appendFloat(s, halfToFloat(load<std::uint16_t>(p)), true);
            break;
        case DType::BFloat16:
            appendFloat(s, bfloat16ToFloat(load<std::uint16_t>(p)), true);
            break;
        case DType::Float8E5M2:
            appendFloat(s, float8e5m2ToFloat(*p), true);
            break;
        case DType::Float8E4M3:
            appendFloat(s, float8e4m3fnToFloat(*p), true);
            break;
        case DType::Float8E4M3FNUZ:
            appendFloat(s, float8e4m3fnuzToFloat(*p), true);
            break;
        case DType::Float8E5M2FNUZ:
            appendFloat(s, float8e5m2fnuzToFloat(*p), true);
            break;
        case DType::Int8:
            appendInt(s, int(std::int8_t(*p)));
            break;
        case DType::Int16:
            appendInt(s, load<std::int16_t>(p));
            break;
        case DType::Int32:
            appendInt(s, load<std::int32_t>(p));
            break;
        case DType::Int64:
            appendInt(s, load<std::int64_t>(p));
            break;
        case DType::UInt8:
            appendInt(s, unsigned(*p));
            break;
        case DType::UInt16:
            appendInt(s, load<std::uint16_t>(p));
            break;
        case DType::UInt32:
            appendInt(s, load<std::uint32_t>(p));
            break;
        case DType::UInt64:
            appendInt(s, load<std::uint64_t>(p));
            break;
        case DType::Bool:
            s += (*p ? (boolWords ? "true" : "1") : (boolWords ? "false" : "0"));
            break;
        case DType::QInt8:
            appendFloat(s, dq(index, std::int8_t(*p)), true);
            break;
        case DType::QUInt8:
            appendFloat(s, dq(index, *p), true);
            break;
        case DType::QInt32:
            appendFloat(s, dq(index, load<std::int32_t>(p)), true);
            break;
        case DType::Complex64:
            appendComplex(s, p, true);
            break;
        case DType::Complex128:
            appendComplex(s, p, false);
            break;
        case DType::Unknown:
            break;
    }
}

/// The "# shape: [...]" line when the rows alone do not give the shape, else nothing.
std::string shapeComment(const TensorEntry& e)
{
    const size_t rank = e.shape.size();
    if (!(rank == 0 || rank >= 3 || e.numel == 0))
        return {};
    std::string text = "# shape: [";
    for (size_t i = 0; i < rank; ++i)
        text += (i ? ", " : "") + std::to_string(e.shape[i]);
    return text + "]\n";
}

}  // namespace

void planCsv(const TensorEntry& e, const QString& name, const QString&, Plan& p)
{
    if (e.dtype == DType::Bool)
        p.note = QStringLiteral("%1 is bool: written as 0/1").arg(name);
}

Status writeCsv(const WriteJob& job)
{
    const int entry = job.entries[0];
    const auto& e = job.index.entries[size_t(entry)];
    std::string text = shapeComment(e);
    const std::int64_t rowLength = e.shape.size() >= 2 ? (e.shape[0] > 0 ? e.numel / e.shape[0] : 0) : 1;
    auto el = elementsOf(job.index, entry);
    if (!el)
        return Status::failureFrom(el);
    const int item = dtypeItemSize(e.dtype);
    const Dequant dq(e);
    const bool boolWords = job.options.csvBoolAsWords;
    std::int64_t pendingWork = 0;
    for (std::int64_t i = 0; i < el->numel; ++i) {
        appendElement(text, el->data + i * item, e, dq, i, boolWords);
        text += ((i + 1) % rowLength == 0) ? '\n' : ',';
        pendingWork += item;
        if (text.size() >= (1u << 20)) {
            if (Status s = job.out.write(text.data(), std::int64_t(text.size()), pendingWork); !s)
                return s;
            text.clear();
            pendingWork = 0;
        }
    }
    return job.out.write(text.data(), std::int64_t(text.size()), pendingWork);
}

}  // namespace paramscope::exportdetail
