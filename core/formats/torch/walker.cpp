// The pickle walk (walker.h), part one: the storages a document names, the checks every
// tensor passes before it becomes an entry, TorchScript modules in state_dict() order, and
// the finished index. torch.save values are walked in walkvalues.cpp.

#include "formats/torch/walker.h"

#include "base/resourcelimits.h"
#include "base/textutil.h"
#include "formats/torch/archive_p.h"
#include "formats/torch/torcharchive.h"
#include "formats/torch/walker_p.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace paramscope::detail {

namespace {

using pickle::Value;
using VT = pickle::Value::Type;

constexpr std::uint64_t kMaxChannelValues = std::uint64_t(1) << 24;  // per-channel quantization channels (256 MB)

QString qs(std::string_view s)
{
    return utf8ToQString(s);
}

/// The index's storages: records of the container, and the data of NumPy arrays that lies
/// inside the pickle (copied out: the document is freed after the walk).
class MixedStorage final : public StorageProvider {
public:
    std::shared_ptr<const StorageProvider> records;
    std::vector<int> recordIndex;                             // per index storage: its record's index, or -1
    std::vector<std::shared_ptr<const std::string>> inlined;  // per index storage (recordIndex -1)

    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || size_t(i) >= recordIndex.size())
            return Result<StorageBytes>::failure(ErrorKind::Failed, QStringLiteral("no storage #%1").arg(i));
        if (recordIndex[size_t(i)] >= 0)
            return records->storageBytes(recordIndex[size_t(i)]);
        const auto& data = inlined[size_t(i)];
        StorageBytes b;
        b.owner = data;
        b.data = reinterpret_cast<const std::uint8_t*>(data->data());
        b.size = data->size();
        return b;
    }
    std::uint64_t readOrder(int i) const override
    {
        if (i >= 0 && size_t(i) < recordIndex.size() && recordIndex[size_t(i)] >= 0)
            return records->readOrder(recordIndex[size_t(i)]);
        return std::numeric_limits<std::uint64_t>::max();  // copied out of the pickle: in memory
    }
};

}  // namespace

Status indexDocument(pickle::Document& doc, const StorageRecords& records, const WalkOptions& options,
                     ModelIndex& index)
{
    Walker w(doc, records, options, index);
    return w.run();
}

QString Walker::fail(const QString& what) const
{
    return QStringLiteral("'%1' cannot be opened: %2").arg(m_options.fileLabel, what);
}

Status Walker::run()
{
    prepareStorages();
    m_index.entries.reserve(m_doc.tensorCount());  // no reallocation peak while walking
    if (!m_doc.warnings.empty()) {
        // One line for them all: a pickled model names dozens of classes.
        QStringList names;
        for (const auto& w : m_doc.warnings) {
            noteForeignClass(w);
            if (names.size() < 8)
                names << QStringLiteral("'%1'").arg(qs(w));
        }
        if (m_doc.warnings.size() > 8)
            names << QStringLiteral("and %1 more").arg(argText(m_doc.warnings.size() - 8));
        m_index.warnings << QStringLiteral(
                                "%1 names %2 not on the allow-list: none was imported or called, what they "
                                "build is read as plain data (%3)")
                                .arg(m_options.pickleName,
                                     m_doc.warnings.size() == 1
                                         ? QStringLiteral("1 callable")
                                         : QStringLiteral("%1 callables").arg(m_doc.warnings.size()),
                                     names.join(QStringLiteral(", ")));
    }
    if (m_options.torchScriptRoot) {
        if (!m_doc.root || m_doc.root->type != VT::Object)
            return Status::failure(ErrorKind::Unsupported,
                                   fail(QStringLiteral("%1 holds a %2, not a TorchScript module")
                                            .arg(m_options.pickleName, qs(pickle::describe(m_doc.root)))));
        if (auto st = walkScriptModule(m_doc.root, std::string(), 0); !st)
            return st;
    } else if (m_doc.root) {
        if (auto st = walkValue(m_doc.root, Place{}, 0); !st)
            return st;
    }
    if (m_nameBytes > limits::kMaxTotalNameBytes)
        return Status::failure(ErrorKind::Limit,
                               fail(QStringLiteral("its tensor names add up to more than %1 MiB")
                                        .arg(argText(std::int64_t(limits::kMaxTotalNameBytes >> 20)))));
    if (m_index.entries.empty() && m_skipped > 0)
        return Status::failure(ErrorKind::Corrupt,
                               fail(QStringLiteral("no tensor can be read: %1").arg(m_firstProblem)));
    linkOptimizers();
    if (m_index.entries.empty())
        explainNoTensors();
    keepUsedStorages();
    return {};
}

void Walker::prepareStorages()
{
    const auto n = m_doc.storages.size();
    m_storageInfo.assign(n, {});
    m_storageProblem.assign(n, {});
    m_storageUsable.assign(n, false);
    m_storageRecord.assign(n, {});
    for (size_t i = 0; i < n; ++i) {
        const auto& s = m_doc.storages[i];
        StorageInfo& info = m_storageInfo[i];
        info.key = s.isInline ? std::string(s.key) : m_records.recordName(s.key);
        if (!s.dtype) {
            m_storageProblem[i] = QStringLiteral("its storage has the unknown type '%1'").arg(qs(s.typeName));
            continue;
        }
        info.dtype = *s.dtype;
        std::int64_t byteSize = 0;
        if (s.numel < 0 || __builtin_mul_overflow(s.numel, std::int64_t(dtypeItemSize(*s.dtype)), &byteSize)) {
            m_storageProblem[i] = QStringLiteral("its storage %1 declares an impossible size").arg(qs(info.key));
            continue;
        }
        info.byteSize = std::uint64_t(byteSize);
        std::optional<StorageRecord> record = StorageRecord{s.isInline ? inlineBytes(s).size() : 0, 0};
        if (!s.isInline)
            record = m_records.find(s.key);
        if (!record) {
            m_storageProblem[i] = QStringLiteral("its data record '%1' is missing").arg(qs(info.key));
            continue;
        }
        if (record->size < info.byteSize) {
            m_storageProblem[i] =
                QStringLiteral("its storage %1 declares %2 bytes (%3 x %4) but the record holds only %5")
                    .arg(argText(qs(info.key)), argText(info.byteSize), argText(s.numel),
                         argText(qs(std::string(dtypeName(*s.dtype)))), argText(record->size));
            continue;
        }
        if (!s.isInline)
            if (QString why = m_records.unusable(*record, info.byteSize, qs(info.key)); !why.isEmpty()) {
                m_storageProblem[i] = why;
                continue;
            }
        m_storageRecord[i] = *record;
        m_storageUsable[i] = true;
    }
}

std::string_view Walker::inlineBytes(const pickle::StorageRef& s) const
{
    return s.inlineIndex < m_doc.inlineData.size() ? m_doc.inlineData[s.inlineIndex] : std::string_view();
}

void Walker::keepUsedStorages()
{
    const size_t storageCount = m_doc.storages.size();
    bool anyInline = false;
    for (const auto& e : m_index.entries)
        anyInline = anyInline || (e.storage >= 0 && m_doc.storages[size_t(e.storage)].isInline);
    std::vector<int> remap(storageCount, -1);
    std::vector<StorageRecord> records;
    std::vector<std::uint64_t> bytes;
    auto mixed = anyInline ? std::make_shared<MixedStorage>() : nullptr;
    for (auto& e : m_index.entries) {
        if (e.storage < 0)
            continue;  // a meta tensor
        int& r = remap[size_t(e.storage)];
        if (r < 0) {
            if (m_index.storages.empty())
                m_index.storages.reserve(storageCount);
            r = int(m_index.storages.size());
            const auto& s = m_doc.storages[size_t(e.storage)];
            m_index.storages.push_back(m_storageInfo[size_t(e.storage)]);
            if (s.isInline) {
                mixed->recordIndex.push_back(-1);
                mixed->inlined.push_back(std::make_shared<const std::string>(
                    inlineBytes(s).substr(0, m_storageInfo[size_t(e.storage)].byteSize)));
            } else {
                if (mixed) {
                    mixed->recordIndex.push_back(int(records.size()));
                    mixed->inlined.push_back(nullptr);
                }
                records.push_back(m_storageRecord[size_t(e.storage)]);
                bytes.push_back(m_storageInfo[size_t(e.storage)].byteSize);
            }
        }
        e.storage = r;
    }
    m_doc = pickle::Document();  // the value tree is no longer needed
    m_storageRecord = {};
    auto provider = m_records.provider(std::move(records), std::move(bytes));
    if (mixed) {
        mixed->records = std::move(provider);
        m_index.provider = std::move(mixed);
    } else {
        m_index.provider = std::move(provider);
    }
    m_index.finalize();
}

void Walker::skip(const std::string& name, const QString& why)
{
    const QString msg = QStringLiteral("'%1' skipped: %2").arg(qs(name), why);
    if (m_skipped++ == 0)
        m_firstProblem = msg;
    m_index.warnings << msg;
}

bool Walker::addTensor(const std::string& name, const pickle::TensorRef& t, TensorKind kind, std::uint32_t access)
{
    if (name.size() > limits::kMaxNameBytes) {
        skipLongName(name);
        return false;
    }
    m_nameBytes += name.size();
    const auto skipped = [&](const QString& why) {
        skip(name, why);
        return false;
    };
    if (!t.error.empty())
        return skipped(qs(t.error));
    if (t.isMeta)
        return addMetaTensor(name, t, kind, access);
    if (t.storage < 0 || size_t(t.storage) >= m_doc.storages.size())
        return skipped(QStringLiteral("it refers to no storage"));
    if (!m_storageUsable[size_t(t.storage)])
        return skipped(m_storageProblem[size_t(t.storage)]);
    const auto& s = m_doc.storages[size_t(t.storage)];
    if (t.shape.size() != t.strides.size())
        return skipped(QStringLiteral("its size has %1 dimensions but its stride %2")
                           .arg(argText(t.shape.size()), argText(t.strides.size())));
    if (t.shape.size() > 64)
        return skipped(QStringLiteral("it has %1 dimensions").arg(t.shape.size()));
    for (size_t d = 0; d < t.shape.size(); ++d)
        if (t.shape[d] < 0 || t.strides[d] < 0)
            return skipped(QStringLiteral("it has a negative size or stride (%1, %2)")
                               .arg(formatShape(t.shape), formatShape(t.strides)));
    if (t.offset < 0)
        return skipped(QStringLiteral("its storage offset %1 is negative").arg(t.offset));
    const std::int64_t needed = requiredStorageElements(t.shape, t.strides, t.offset);
    if (needed < 0)
        return skipped(QStringLiteral("its sizes and strides overflow (%1, %2)")
                           .arg(formatShape(t.shape), formatShape(t.strides)));
    std::int64_t numel = 1;
    for (auto d : t.shape)
        if (__builtin_mul_overflow(numel, d, &numel))
            return skipped(QStringLiteral("its element count overflows (%1)").arg(formatShape(t.shape)));
    if (numel > 0 && t.offset >= s.numel)
        return skipped(QStringLiteral("its storage offset %1 lies past the end of its storage (%2 elements)")
                           .arg(argText(t.offset), argText(s.numel)));
    if (needed > s.numel)
        return skipped(QStringLiteral("size %1, stride %2 and offset %3 need %4 elements but its storage %5 holds %6")
                           .arg(argText(formatShape(t.shape)), argText(formatShape(t.strides)), argText(t.offset),
                                argText(needed), argText(qs(m_storageInfo[size_t(t.storage)].key)), argText(s.numel)));
    if (bool(t.quant) != dtypeIsQuantized(*s.dtype))
        return skipped(QStringLiteral("its storage type %1 does not match how it is rebuilt").arg(qs(s.typeName)));
    TensorEntry e;
    e.name = name;
    e.kind = kind;
    e.dtype = *s.dtype;
    e.shape = t.shape;
    e.strides = t.strides;
    e.storageOffset = t.offset;
    e.requiresGrad = t.requiresGrad;
    e.storage = t.storage;
    if (t.quant)
        e.setQuantization(t.quant->scale, t.quant->zeroPoint);
    if (t.quant && (t.quant->scales || t.quant->zeroPoints) && !addQuantChannels(name, t, e))
        return false;
    pushEntry(std::move(e), access);
    return true;
}

void Walker::pushEntry(TensorEntry&& e, std::uint32_t access)
{
    m_index.entries.push_back(std::move(e));
    // Kept only once an entry needs one (0: reached as obj[name]).
    if (access != 0 || !m_index.accessOf.empty()) {
        m_index.accessOf.resize(m_index.entries.size() - 1);
        m_index.accessOf.push_back(access);
    }
}

bool Walker::addQuantChannels(const std::string& name, const pickle::TensorRef& t, TensorEntry& e)
{
    auto qc = std::make_shared<QuantChannels>();
    QString why;
    const pickle::TensorRef::Quantization& q = *t.quant;
    if (q.axis < 0 || q.axis >= std::int64_t(t.shape.size())) {
        skip(name, QStringLiteral("its per-channel quantization axis %1 is not one of its %2 dimensions")
                       .arg(argText(q.axis), argText(t.shape.size())));
        return false;
    }
    qc->axis = int(q.axis);
    // Each entry holds its own scales and zero points (16 bytes a channel, up to 2^24
    // channels a tensor): many tensors naming one memoized pair must not multiply that.
    const std::int64_t channels = t.shape[size_t(qc->axis)];
    if (std::uint64_t(channels) > kMaxChannelValues - m_channelValues) {
        skip(name,
             QStringLiteral("its per-channel quantization parameters would bring the file's total past %1 channels")
                 .arg(argText(std::int64_t(kMaxChannelValues))));
        return false;
    }
    m_channelValues += std::uint64_t(channels);
    if (!q.scales || !q.zeroPoints || !smallTensor(*q.scales, qc->scales, why) ||
        !smallTensor(*q.zeroPoints, qc->zeroPoints, why)) {
        skip(name, QStringLiteral("its per-channel quantization parameters cannot be read: %1").arg(why));
        return false;
    }
    if (std::int64_t(qc->scales.size()) != channels || std::int64_t(qc->zeroPoints.size()) != channels) {
        skip(name, QStringLiteral("it has %1 channels along dimension %2 but %3 scales and %4 zero points")
                       .arg(argText(channels), argText(qc->axis), argText(qc->scales.size()),
                            argText(qc->zeroPoints.size())));
        return false;
    }
    e.setQuantization(e.qScale(), e.qZeroPoint(), std::move(qc));
    return true;
}

template <typename Out>
bool Walker::smallTensor(const pickle::TensorRef& r, std::vector<Out>& out, QString& why)
{
    if (!r.error.empty()) {
        why = qs(r.error);
        return false;
    }
    if (r.storage < 0 || size_t(r.storage) >= m_doc.storages.size() || !m_storageUsable[size_t(r.storage)]) {
        why = r.storage < 0 || size_t(r.storage) >= m_doc.storages.size() ? QStringLiteral("a tensor without storage")
                                                                          : m_storageProblem[size_t(r.storage)];
        return false;
    }
    const pickle::StorageRef& s = m_doc.storages[size_t(r.storage)];
    const auto read = [&](std::uint64_t bytes) -> Result<StorageBytes> {
        if (!s.isInline)
            return m_records.read(m_storageRecord[size_t(r.storage)], bytes);
        StorageBytes b;
        b.data = reinterpret_cast<const std::uint8_t*>(inlineBytes(s).data());
        b.size = std::min<std::uint64_t>(bytes, inlineBytes(s).size());
        return b;
    };
    return readChannelValues(read, s, r, out, why);
}

Status Walker::tooDeep(const std::string& name) const
{
    return Status::failure(ErrorKind::Limit,
                           fail(QStringLiteral("%1 nests deeper than %2 levels at '%3' (cyclic?)")
                                    .arg(argText(m_options.pickleName), argText(kMaxDepth),
                                         argText(qs(name.size() > 60 ? name.substr(0, 60) + "..." : name)))));
}

void Walker::skipLongName(const std::string& name)
{
    ++m_skipped;
    if (m_longNames++ == 0) {
        const QString msg =
            QStringLiteral("tensors whose names are longer than %1 bytes are skipped (the first starts '%2…')")
                .arg(argText(std::int64_t(limits::kMaxNameBytes)), qs(name.substr(0, 60)));
        m_firstProblem = msg;
        m_index.warnings << msg;
    }
}

bool Walker::childNameTooLong(const std::string& prefix, std::string_view key)
{
    if (prefix.size() + 1 + key.size() <= limits::kMaxNameBytes)
        return false;
    skipLongName((prefix.empty() ? std::string() : prefix.substr(0, 60) + ".") + std::string(key.substr(0, 60)));
    return true;
}

Status Walker::visit(const std::string& name)
{
    if (m_nameBytes > limits::kMaxTotalNameBytes)
        return Status::failure(ErrorKind::Limit,
                               fail(QStringLiteral("its tensor names add up to more than %1 MiB")
                                        .arg(argText(std::int64_t(limits::kMaxTotalNameBytes >> 20)))));
    // Shared sub-graphs are legitimate but must not blow up exponentially.
    if (++m_visits > m_doc.valueCount() * 4 + 100000)
        return Status::failure(
            ErrorKind::Limit, fail(QStringLiteral("%1's object graph is too large to walk (shared cyclically at '%2'?)")
                                       .arg(m_options.pickleName, qs(name))));
    if (m_options.load && isCancelled(m_options.load->cancel))
        return Status::failure(ErrorKind::Cancelled, cancelledMessage(m_options.fileLabel));
    return {};
}

// ---- TorchScript: state_dict order (own parameters, own buffers, then children) ----

const TorchScriptClass* Walker::classOf(std::string_view qualified) const
{
    return m_options.classOf ? m_options.classOf(qualified) : nullptr;
}

bool Walker::isScriptModule(const Value* v) const
{
    if (!v || v->type != VT::Object || v->opaque)
        return false;
    if (const auto* c = classOf(v->text))
        return c->isModule;
    return v->state && v->state->get("training");  // sources missing: judge by the attributes
}

Status Walker::walkScriptModule(const Value* m, const std::string& prefix, int depth)
{
    if (depth > kMaxDepth)
        return tooDeep(prefix);
    if (auto st = visit(prefix); !st)
        return st;
    m_index.moduleTypes.emplace(prefix, std::string(m->text));
    const Value* state = m->state;
    if (!state || state->type != VT::Dict) {
        if (state && !walkQuantizedState(m, prefix.empty() ? std::string() : prefix + "."))
            m_index.warnings << QStringLiteral(
                                    "module '%1' (%2) stores its state in a custom format; its tensors are not listed")
                                    .arg(qs(prefix.empty() ? std::string("(root)") : prefix), qs(m->text));
        return {};
    }
    const TorchScriptClass* cls = classOf(m->text);
    if (!cls && !m_warnedNoClass.count(std::string(m->text))) {
        m_warnedNoClass.insert(std::string(m->text));
        m_index.warnings << QStringLiteral(
                                "no source for class %1 under code/: its tensors are listed with kind 'tensor'")
                                .arg(qs(m->text));
    }
    // Hash sets: a class can list 100k parameters (a linear search per attribute was quadratic).
    std::unordered_set<std::string_view> parameters, buffers;
    if (cls) {
        parameters.insert(cls->parameters.begin(), cls->parameters.end());
        buffers.insert(cls->buffers.begin(), cls->buffers.end());
    }
    const std::string dotted = prefix.empty() ? std::string() : prefix + ".";
    // Own parameters, then own buffers, each in attribute order (LibTorch's and Python's
    // state_dict order).
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < state->dictSize(); ++i) {
            const Value* k = state->key(i);
            const Value* v = state->value(i);
            if (!k || k->type != VT::String || !v || v->type != VT::Tensor)
                continue;
            TensorKind kind = TensorKind::Tensor;
            if (cls) {
                if (parameters.count(k->text))
                    kind = TensorKind::Parameter;
                else if (buffers.count(k->text))
                    kind = TensorKind::Buffer;
                else
                    continue;  // a plain tensor attribute: not in state_dict()
            }
            const bool wanted = pass == 0 ? kind != TensorKind::Buffer : kind == TensorKind::Buffer;
            if (wanted)
                addTensor(dotted + std::string(k->text), *v->tensor, kind, 0);
        }
    }
    addQuantizedAttributes(m, state, dotted);
    for (size_t i = 0; i < state->dictSize(); ++i) {
        const Value* k = state->key(i);
        const Value* v = state->value(i);
        if (!k || k->type != VT::String || !isScriptModule(v))
            continue;
        if (childNameTooLong(prefix, k->text))
            continue;
        if (auto st = walkScriptModule(v, dotted + std::string(k->text), depth + 1); !st)
            return st;
    }
    return {};
}

}  // namespace paramscope::detail
