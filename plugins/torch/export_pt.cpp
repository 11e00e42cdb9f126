// The .pt writer: the archive torch::pickle_save writes, which Python's torch.load reads
// back exactly (dtype included, bfloat16 too). The only export source that includes
// LibTorch.
#include "plugins/torch/torchimpl.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/script.h>
#include <torch/serialize.h>

namespace paramscope::torchimpl {

using detail::PtTensor;

namespace {

std::optional<c10::ScalarType> toScalarType(DType t)
{
    switch (t) {
        case DType::Float32:
            return c10::ScalarType::Float;
        case DType::Float64:
            return c10::ScalarType::Double;
        case DType::Float16:
            return c10::ScalarType::Half;
        case DType::BFloat16:
            return c10::ScalarType::BFloat16;
        case DType::Int8:
            return c10::ScalarType::Char;
        case DType::Int16:
            return c10::ScalarType::Short;
        case DType::Int32:
            return c10::ScalarType::Int;
        case DType::Int64:
            return c10::ScalarType::Long;
        case DType::UInt8:
            return c10::ScalarType::Byte;
        case DType::Bool:
            return c10::ScalarType::Bool;
        case DType::Complex64:
            return c10::ScalarType::ComplexFloat;
        case DType::Complex128:
            return c10::ScalarType::ComplexDouble;
        default:
            return std::nullopt;
    }
}

/// The IValue to pickle: the tensor, or a dict name -> tensor. from_blob wraps the
/// caller's bytes without copying; the caller keeps them alive meanwhile.
Result<c10::IValue> toIValue(const std::vector<PtTensor>& tensors, bool asDict)
{
    using R = Result<c10::IValue>;
    static std::uint64_t dummy = 0;  // a valid address for empty tensors
    // Fails (with the reason) only for a dtype PyTorch lacks: Unsupported.
    auto wrap = [](const PtTensor& t, at::Tensor* out) -> QString {
        const auto st = toScalarType(t.dtype);
        if (!st)
            return QStringLiteral("'%1': dtype %2 has no PyTorch equivalent")
                .arg(QString::fromStdString(t.name), QLatin1String(dtypeName(t.dtype).data()));
        void* data = const_cast<void*>(t.data ? t.data : static_cast<const void*>(&dummy));
        *out = at::from_blob(data, t.shape, at::TensorOptions().dtype(*st));
        return {};
    };
    if (!asDict) {
        if (tensors.size() != 1)
            return R::failure(QStringLiteral("a single-tensor .pt needs exactly one tensor"));
        at::Tensor t;
        if (QString why = wrap(tensors.front(), &t); !why.isEmpty())
            return R::failure(ErrorKind::Unsupported, why);
        return c10::IValue(t);
    }
    // c10::Dict keeps insertion order, and torch.load gives a dict in that order.
    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& pt : tensors) {
        at::Tensor t;
        if (QString why = wrap(pt, &t); !why.isEmpty())
            return R::failure(ErrorKind::Unsupported, why);
        dict.insert(pt.name, t);
    }
    return c10::IValue(dict);
}

QString describe(const c10::Error& e)
{
    return QStringLiteral("PyTorch could not serialize the tensors: %1")
        .arg(QString::fromStdString(e.what_without_backtrace()).section(QLatin1Char('\n'), 0, 0));
}

}  // namespace

Status writePtArchive(const std::vector<PtTensor>& tensors, bool asDict,
                      const std::function<bool(const void*, std::size_t)>& sink)
{
    try {
        auto value = toIValue(tensors, asDict);
        if (!value)
            return Status::failureFrom(value);
        // What torch::pickle_save does (checked byte for byte by tst_export), except that
        // the zip writer streams into `sink` rather than into one buffer holding the file.
        std::vector<char> pickle;
        torch::jit::Pickler pickler([&](const char* p, size_t n) { pickle.insert(pickle.end(), p, p + n); });
        pickler.protocol();
        pickler.pushIValue(value.value());
        pickler.stop();
        bool sinking = true;
        // The writer function always reports success: a short write makes the zip writer
        // throw, possibly from its destructor. After a failure or cancel the rest is
        // dropped instead.
        caffe2::serialize::PyTorchStreamWriter writer([&](const void* p, size_t n) -> size_t {
            if (sinking && n > 0)
                sinking = sink(p, n);
            return n;
        });
        torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
        writer.writeEndOfFile();
        return {};
    } catch (const c10::Error& e) {
        return Status::failure(describe(e));
    } catch (const std::bad_alloc&) {
        return Status::failure(ErrorKind::Limit, QStringLiteral("not enough memory to serialize the tensors"));
    } catch (const std::exception& e) {
        return Status::failure(
            QStringLiteral("PyTorch could not serialize the tensors: %1").arg(QString::fromUtf8(e.what())));
    }
}

Result<std::vector<char>> picklePt(const std::vector<PtTensor>& tensors, bool asDict)
{
    using R = Result<std::vector<char>>;
    try {
        auto value = toIValue(tensors, asDict);
        if (!value)
            return R::failureFrom(value);
        return torch::pickle_save(value.value());
    } catch (const c10::Error& e) {
        return R::failure(describe(e));
    } catch (const std::exception& e) {
        return R::failure(
            QStringLiteral("PyTorch could not serialize the tensors: %1").arg(QString::fromUtf8(e.what())));
    }
}

}  // namespace paramscope::torchimpl
