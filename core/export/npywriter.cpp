// The .npy writer: NumPy's format 1.0 (2.0 when the header needs more than 65535 bytes),
// C order, data 64-byte aligned. NumPy has no bfloat16 or float8: those are widened to
// float32 exactly.
#include "export/atomicoutput_p.h"
#include "export/writers_p.h"

#include <string>

namespace paramscope::exportdetail {

namespace {

std::string npyDescr(DType t)
{
    switch (t) {
        case DType::Float32:
            return "<f4";
        case DType::Float64:
            return "<f8";
        case DType::Float16:
            return "<f2";
        case DType::Int8:
            return "|i1";
        case DType::Int16:
            return "<i2";
        case DType::Int32:
            return "<i4";
        case DType::Int64:
            return "<i8";
        case DType::UInt8:
            return "|u1";
        case DType::UInt16:
            return "<u2";
        case DType::UInt32:
            return "<u4";
        case DType::UInt64:
            return "<u8";
        case DType::Bool:
            return "|b1";
        case DType::Complex64:
            return "<c8";
        case DType::Complex128:
            return "<c16";
        default:
            return {};
    }
}

/// The full .npy preamble (magic, version, length, header dict, padding) for `shape`.
std::string npyHeader(const std::string& descr, const std::vector<std::int64_t>& shape)
{
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            dict += ", ";
        dict += std::to_string(shape[i]);
    }
    if (shape.size() == 1)
        dict += ",";
    dict += "), }";
    // Version 1.0 stores the header length in 2 bytes; 2.0 in 4.
    auto build = [&](int prefix) {
        const size_t unpadded = size_t(prefix) + dict.size() + 1;  // + '\n'
        const size_t pad = (64 - unpadded % 64) % 64;
        return dict + std::string(pad, ' ') + "\n";
    };
    std::string header = build(10);
    std::string out = "\x93NUMPY";
    if (header.size() <= 65535) {
        out += '\x01';
        out += '\x00';
        out += char(header.size() & 0xff);
        out += char((header.size() >> 8) & 0xff);
    } else {
        header = build(12);
        out += '\x02';
        out += '\x00';
        for (int b = 0; b < 4; ++b)
            out += char((header.size() >> (8 * b)) & 0xff);
    }
    return out + header;
}

}  // namespace

void planNpy(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p)
{
    if (e.dtype == DType::BFloat16 || e.dtype == DType::Float8E4M3 || e.dtype == DType::Float8E5M2 ||
        e.dtype == DType::Float8E4M3FNUZ || e.dtype == DType::Float8E5M2FNUZ) {
        p.out = DType::Float32;
        p.note = QStringLiteral("%1 is %2, which NumPy lacks: widened to float32 (exactly)").arg(name, dtype);
    }
}

Status writeNpy(const WriteJob& job)
{
    const int entry = job.entries[0];
    const DType out = job.plans[0].out;
    const auto& e = job.index.entries[size_t(entry)];
    const std::string descr = npyDescr(out);
    if (descr.empty())
        return Status::failure(ErrorKind::Unsupported,
                               QStringLiteral("%1 (%2) cannot be written to .npy")
                                   .arg(entryLabel(e), QLatin1String(dtypeName(e.dtype).data())));
    if (Status s = job.out.write(npyHeader(descr, e.shape)); !s)
        return s;
    return forEachChunk(job.index, entry, out, [&](const std::uint8_t* p, std::int64_t n, std::int64_t work) {
        return job.out.write(p, n * dtypeItemSize(out), work);
    });
}

}  // namespace paramscope::exportdetail
