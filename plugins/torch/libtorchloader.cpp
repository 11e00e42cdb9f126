// The LibTorch engine: torch::jit::load, and the index of the module's parameters and
// buffers in state_dict() order. LibTorch headers stay in the plug-in's sources, never in
// a header.
#include "model/loadtypes.h"
#include "plugins/torch/torchimpl.h"

#include <torch/script.h>

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <unordered_map>

namespace paramscope {

namespace {

std::optional<DType> fromScalarType(c10::ScalarType t)
{
    switch (t) {
        case c10::ScalarType::Float:
            return DType::Float32;
        case c10::ScalarType::Double:
            return DType::Float64;
        case c10::ScalarType::Half:
            return DType::Float16;
        case c10::ScalarType::BFloat16:
            return DType::BFloat16;
        case c10::ScalarType::Char:
            return DType::Int8;
        case c10::ScalarType::Short:
            return DType::Int16;
        case c10::ScalarType::Int:
            return DType::Int32;
        case c10::ScalarType::Long:
            return DType::Int64;
        case c10::ScalarType::Byte:
            return DType::UInt8;
        case c10::ScalarType::Bool:
            return DType::Bool;
        case c10::ScalarType::ComplexFloat:
            return DType::Complex64;
        case c10::ScalarType::ComplexDouble:
            return DType::Complex128;
        case c10::ScalarType::QInt8:
            return DType::QInt8;
        case c10::ScalarType::QUInt8:
            return DType::QUInt8;
        case c10::ScalarType::QInt32:
            return DType::QInt32;
        default:
            return std::nullopt;
    }
}

class LibTorchStorage final : public StorageProvider {
public:
    std::shared_ptr<torch::jit::Module> module;  // keeps every storage alive
    std::vector<c10::Storage> storages;

    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || size_t(i) >= storages.size())
            return Result<StorageBytes>::failure(QStringLiteral("no storage #%1").arg(i));
        const auto& s = storages[size_t(i)];
        StorageBytes b;
        b.owner = module;
        b.data = static_cast<const std::uint8_t*>(s.data());
        b.size = s.nbytes();
        return b;
    }
};

QString explain(const QString& path, const QString& what)
{
    const QString name = QFileInfo(path).fileName();
    // LibTorch messages are long and carry C++ backtraces; keep the first line.
    // Some (the TorchScript compiler's) start with an empty line: take the first non-empty one.
    QString first;
    for (const QString& line : what.split(QLatin1Char('\n')))
        if (!(first = line.trimmed()).isEmpty())
            break;
    if (first.contains(QLatin1String("constants.pkl")) && first.contains(QLatin1String("file not found")))
        return QStringLiteral(
                   "'%1' is not a TorchScript archive (no constants.pkl): the LibTorch engine reads only "
                   "files written by torch.jit.save; a torch.save checkpoint needs the native reader")
            .arg(name);
    // Drop LibTorch's internal prefixes and suffixes: "[enforce fail at x.cc:148] . ",
    // "(Could this error message be improved? ...)".
    first.remove(QRegularExpression(QStringLiteral("^\\[enforce fail at [^\\]]*\\]\\s*\\.?\\s*")));
    first.remove(QRegularExpression(QStringLiteral("\\s*\\(Could this error message be improved\\?.*$")));
    static const QRegularExpression missing(QStringLiteral("failed locating file (\\S+): file not found"));
    static const QRegularExpression expected(QStringLiteral("Expected hasRecord\\(\"([^\"]+)\"\\)"));
    if (auto m = missing.match(first); m.hasMatch())
        return QStringLiteral("'%1' is a damaged PyTorch archive: it has no '%2' record").arg(name, m.captured(1));
    if (auto m = expected.match(first); m.hasMatch())
        return QStringLiteral("'%1' is a damaged PyTorch archive: it has no '%2' record").arg(name, m.captured(1));
    if (first.contains(QLatin1String("central directory")))
        return QStringLiteral("'%1' is not a PyTorch archive: no zip central directory found (%2)").arg(name, first);
    return QStringLiteral("'%1' could not be loaded by LibTorch: %2").arg(name, first);
}

bool looksLikeLegacyPickle(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray head = f.read(2);
    return head.size() == 2 && quint8(head[0]) == 0x80 && quint8(head[1]) <= 5;
}

bool cancelled(const LoadOptions& o)
{
    return o.cancel && o.cancel->load();
}

/// Adds LibTorch tensors to an index in the order given: dense tensors only, each
/// storage once (shared storages keep one number), quantization parameters copied.
struct IndexBuilder {
    ModelIndex& index;
    LibTorchStorage& provider;
    std::unordered_map<const void*, int> storageIds;

    void add(const std::string& fullName, const at::Tensor& t, TensorKind kind)
    {
        if (!t.defined())
            return;  // e.g. a Linear without bias: listed by neither state_dict nor us
        if (t.layout() != c10::kStrided) {
            index.warnings << QStringLiteral("'%1' skipped: only dense tensors are supported")
                                  .arg(QString::fromStdString(fullName));
            return;
        }
        const auto dt = fromScalarType(t.scalar_type());
        TensorEntry e;
        e.name = fullName;
        e.kind = kind;
        e.dtype = dt.value_or(DType::Unknown);
        if (!dt)
            index.warnings << QStringLiteral("'%1' has an unsupported dtype (%2)")
                                  .arg(QString::fromStdString(fullName),
                                       QString::fromStdString(std::string(c10::toString(t.scalar_type()))));
        e.shape = t.sizes().vec();
        e.strides = t.strides().vec();
        e.storageOffset = t.storage_offset();
        e.requiresGrad = t.requires_grad();
        if (t.is_quantized() && !quantization(fullName, t, e))
            return;
        if (t.has_storage()) {
            const void* key = t.storage().unsafeGetStorageImpl();
            auto [it, inserted] = storageIds.emplace(key, int(provider.storages.size()));
            if (inserted) {
                provider.storages.push_back(t.storage());
                StorageInfo si;
                si.key = "storage/" + std::to_string(it->second);
                si.dtype = e.dtype;
                si.byteSize = t.storage().nbytes();
                index.storages.push_back(si);
            }
            e.storage = it->second;
        }
        index.entries.push_back(std::move(e));
    }

    /// Copies the quantization parameters; false (with a warning) for a scheme not known.
    bool quantization(const std::string& fullName, const at::Tensor& t, TensorEntry& e)
    {
        if (t.qscheme() == c10::kPerTensorAffine) {
            e.setQuantization(t.q_scale(), t.q_zero_point());
        } else if (t.qscheme() == c10::kPerChannelAffine) {
            auto qc = std::make_shared<QuantChannels>();
            qc->axis = int(t.q_per_channel_axis());
            const torch::Tensor scales = t.q_per_channel_scales().to(torch::kDouble).contiguous();
            const torch::Tensor zeros = t.q_per_channel_zero_points().to(torch::kLong).contiguous();
            qc->scales.assign(scales.data_ptr<double>(), scales.data_ptr<double>() + scales.numel());
            qc->zeroPoints.assign(zeros.data_ptr<std::int64_t>(), zeros.data_ptr<std::int64_t>() + zeros.numel());
            e.setQuantization(1.0, 0, std::move(qc));
        } else {
            index.warnings << QStringLiteral("'%1' skipped: it uses a quantization scheme ParamScope does not know")
                                  .arg(QString::fromStdString(fullName));
            return false;
        }
        return true;
    }
};

}  // namespace

namespace torchimpl {

LoadResult load(const QString& path, const LoadOptions& options)
{
    const QString name = QFileInfo(path).fileName();
    if (looksLikeLegacyPickle(path))
        return LoadResult::failure(QStringLiteral("'%1' is in the legacy (pre-1.6, non-zip) torch.save format: "
                                                  "re-save it with a current PyTorch")
                                       .arg(name));
    if (cancelled(options))
        return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
    if (options.progress)
        options.progress(0.05, QStringLiteral("Reading archive"));
    try {
        auto provider = std::make_shared<LibTorchStorage>();
        provider->module = std::make_shared<torch::jit::Module>(torch::jit::load(path.toStdString(), torch::kCPU));
        if (cancelled(options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
        if (options.progress)
            options.progress(0.8, QStringLiteral("Indexing tensors"));

        auto index = std::make_shared<ModelIndex>();
        index->filePath = path;
        index->format = ModelFormat::TorchScript;
        index->engine = loaderEngineName(LoaderEngine::LibTorch);
        IndexBuilder builder{*index, *provider, {}};

        // state_dict() order: a module's own parameters, its own buffers, then each child.
        std::vector<std::pair<std::string, torch::jit::Module>> stack;
        stack.emplace_back(std::string(), *provider->module);
        while (!stack.empty()) {
            if (cancelled(options))
                return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
            auto [prefix, m] = std::move(stack.back());
            stack.pop_back();
            for (const auto& p : m.named_parameters(/*recurse=*/false))
                builder.add(prefix + p.name, p.value, TensorKind::Parameter);
            for (const auto& b : m.named_buffers(/*recurse=*/false))
                builder.add(prefix + b.name, b.value, TensorKind::Buffer);
            std::vector<std::pair<std::string, torch::jit::Module>> children;
            for (const auto& c : m.named_children())
                children.emplace_back(prefix + c.name + ".", c.value);
            for (auto it = children.rbegin(); it != children.rend(); ++it)
                stack.push_back(std::move(*it));
        }
        index->provider = provider;
        index->finalize();
        if (options.progress)
            options.progress(1.0, QStringLiteral("Done"));
        return LoadResult(std::shared_ptr<const ModelIndex>(std::move(index)));
    } catch (const c10::Error& e) {
        return LoadResult::failure(explain(path, QString::fromStdString(e.what_without_backtrace())));
    } catch (const std::bad_alloc&) {
        return LoadResult::failure(
            QStringLiteral("'%1' could not be loaded by LibTorch: out of memory (corrupt sizes?)").arg(name));
    } catch (const std::exception& e) {
        return LoadResult::failure(explain(path, QString::fromUtf8(e.what())));
    } catch (...) {
        return LoadResult::failure(QStringLiteral("'%1' could not be loaded by LibTorch: unknown error").arg(name));
    }
}

}  // namespace torchimpl

}  // namespace paramscope
