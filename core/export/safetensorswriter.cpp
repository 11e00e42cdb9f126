// The .safetensors writer: an 8-byte little-endian header length, a JSON header padded
// with spaces to a multiple of 8 bytes (__metadata__ {"format": "pt", "source": <model
// file name>}, then every tensor in the order given with its dtype code, shape and data
// offsets), then the tensors' bytes back to back. Shared tensors become separate copies
// (the format forbids overlapping data); complex128 has no code and is refused.
#include "export/atomicoutput_p.h"
#include "export/writers_p.h"

#include <QFileInfo>

#include <cstdio>
#include <string>

namespace paramscope::exportdetail {

namespace {

std::string jsonEscape(const std::string& s)
{
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                o += "\\\"";
                break;
            case '\\':
                o += "\\\\";
                break;
            case '\n':
                o += "\\n";
                break;
            case '\r':
                o += "\\r";
                break;
            case '\t':
                o += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    o += buf;
                } else {
                    o += char(c);  // UTF-8 passes through
                }
        }
    }
    return o + "\"";
}

/// The header: its 8-byte length, then the padded JSON text.
Result<std::string> safetensorsHeader(const WriteJob& job)
{
    std::string json = "{\"__metadata__\":{\"format\":\"pt\",\"source\":" +
                       jsonEscape(QFileInfo(job.index.filePath).fileName().toStdString()) + "}";
    std::uint64_t offset = 0;
    for (size_t k = 0; k < job.entries.size(); ++k) {
        const auto& e = job.index.entries[size_t(job.entries[k])];
        if (e.name == "__metadata__")
            return Result<std::string>::failure(
                ErrorKind::Unsupported,
                QStringLiteral("a tensor named '__metadata__' cannot be stored in safetensors"));
        const DType out = job.plans[k].out;
        const std::uint64_t size = std::uint64_t(e.numel) * std::uint64_t(dtypeItemSize(out));
        json += "," + jsonEscape(e.name) + ":{\"dtype\":\"" + std::string(dtypeSafetensorsCode(out)) + "\",\"shape\":[";
        for (size_t i = 0; i < e.shape.size(); ++i)
            json += (i ? "," : "") + std::to_string(e.shape[i]);
        json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + size) + "]}";
        offset += size;
    }
    json += "}";
    json.append((8 - json.size() % 8) % 8, ' ');
    std::string head(8, '\0');
    for (int b = 0; b < 8; ++b)
        head[size_t(b)] = char((std::uint64_t(json.size()) >> (8 * b)) & 0xff);
    return head + json;
}

}  // namespace

void planSafetensors(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p)
{
    if (dtypeSafetensorsCode(e.dtype).empty()) {
        p.out = DType::Unknown;
        p.error = QStringLiteral("%1 is %2, which safetensors cannot store; export it to .npy or .pt").arg(name, dtype);
    }
}

Status writeSafetensors(const WriteJob& job)
{
    const auto header = safetensorsHeader(job);
    if (!header)
        return Status::failureFrom(header);
    if (Status s = job.out.write(header.value()); !s)
        return s;
    for (size_t k = 0; k < job.entries.size(); ++k) {
        const DType out = job.plans[k].out;
        Status s =
            forEachChunk(job.index, job.entries[k], out, [&](const std::uint8_t* p, std::int64_t n, std::int64_t work) {
                return job.out.write(p, n * dtypeItemSize(out), work);
            });
        if (!s)
            return s;
    }
    return {};
}

}  // namespace paramscope::exportdetail
