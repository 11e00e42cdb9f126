// The .pt writer: the archive torch::pickle_save writes for one tensor, or for a dict
// name -> tensor in the order given, streamed into the output by the LibTorch plug-in
// (model/torchbackend.h). Every name gets its own contiguous tensor, so views and tied
// weights load with their own values. Dtypes this PyTorch lacks are widened: float8 to
// float32, uint16 to int32, uint32/uint64 to int64 (a uint64 above INT64_MAX is refused).
#include "export/atomicoutput_p.h"
#include "export/writers_p.h"
#include "model/torchbackend.h"

namespace paramscope::exportdetail {

void planPt(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p)
{
    if (e.dtype == DType::Float8E4M3 || e.dtype == DType::Float8E5M2 || e.dtype == DType::Float8E4M3FNUZ ||
        e.dtype == DType::Float8E5M2FNUZ) {
        p.out = DType::Float32;
        p.note = QStringLiteral("%1 is %2, which this PyTorch lacks: widened to float32 (exactly)").arg(name, dtype);
    } else if (e.dtype == DType::UInt16) {
        p.out = DType::Int32;
        p.note = QStringLiteral("%1 is uint16, which this PyTorch lacks: widened to int32").arg(name);
    } else if (e.dtype == DType::UInt32 || e.dtype == DType::UInt64) {
        p.out = DType::Int64;
        p.note = QStringLiteral("%1 is %2, which this PyTorch lacks: written as int64").arg(name, dtype);
    }
}

Status writePt(const WriteJob& job)
{
    // Every name gets its own contiguous tensor: views and tied weights load with their
    // own values, at the cost of writing shared data once per name.
    const auto& entries = job.entries;
    std::vector<Elements> keep(entries.size());
    std::vector<std::vector<std::uint8_t>> converted(entries.size());
    std::vector<detail::PtTensor> tensors;
    tensors.reserve(entries.size());
    for (size_t k = 0; k < entries.size(); ++k) {
        if (job.out.cancelled())
            return Status::failure(ErrorKind::Cancelled, exportCancelledMessage(QString()));
        const auto& e = job.index.entries[size_t(entries[k])];
        const DType out = job.plans[k].out;
        auto el = elementsOf(job.index, entries[k]);
        if (!el)
            return Status::failureFrom(el);
        keep[k] = std::move(el.value());
        detail::PtTensor t;
        t.name = e.name;
        t.dtype = out;
        t.shape = e.shape;
        t.data = keep[k].data;
        if (out != e.dtype && keep[k].numel > 0) {
            converted[k].resize(size_t(keep[k].numel) * size_t(dtypeItemSize(out)));
            const QString why =
                convertElements(keep[k].data, keep[k].numel, e.dtype, out, Dequant(e), 0, converted[k].data());
            if (!why.isEmpty())
                return Status::failure(ErrorKind::Unsupported, entryLabel(e) + QLatin1Char(' ') + why);
            t.data = converted[k].data();
            std::vector<std::uint8_t>().swap(keep[k].copy);  // the strided copy is no longer needed
        }
        tensors.push_back(std::move(t));
        job.out.advance(e.bytes);
    }
    // The archive streams straight into the output: no second copy of the data in memory.
    Status written;
    const Status pickled = detail::writePtArchive(tensors, entries.size() > 1, [&](const void* p, std::size_t n) {
        written = job.out.write(p, std::int64_t(n));
        return bool(written);
    });
    if (!written)
        return written;
    return pickled;
}

}  // namespace paramscope::exportdetail
