#pragma once

#include "base/checkedsize.h"
#include "base/dims.h"
#include "base/dtype.h"
#include "base/result.h"
#include "base/smalltext.h"

#include <QMap>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace paramscope {

enum class TensorKind : std::uint8_t {
    Parameter,
    Buffer,
    Tensor,  // the file does not say (torch.save state_dicts, safetensors)
    Array,   // a NumPy array pickled inside a checkpoint (read-only; never a model tensor)
};
std::string_view tensorKindName(TensorKind k);  // "parameter", "buffer", "tensor", "array"

enum class ModelFormat : std::uint8_t {
    TorchScript,        // torch.jit.save archive
    TorchSave,          // torch.save zip checkpoint
    TorchSaveLegacy,    // torch.save before 1.6 (or _use_new_zipfile_serialization=False): magic, pickles, raw storages
    TorchSaveTar,       // torch.save of PyTorch 0.1-0.3: a tar of sys_info, pickle, tensors, storages
    TorchScriptMobile,  // torch.jit mobile (lite interpreter, _save_for_lite_interpreter) archive
    Safetensors,        // one .safetensors file
    ShardedSafetensors,  // *.safetensors.index.json + shards
    Unknown,
};
/// Human-readable ("TorchScript archive", "torch.save checkpoint", "safetensors", ...).
QString modelFormatName(ModelFormat f);
/// Short machine name used in JSON ("torchscript", "torch.save", "torch.save-legacy", "torch.save-tar",
/// "torchscript-mobile", "safetensors", "safetensors-sharded").
QString modelFormatId(ModelFormat f);

/// Bytes of one storage. `owner` keeps the memory alive (a mapping, a buffer, a LibTorch
/// module); the bytes must not be written.
struct StorageBytes {
    std::shared_ptr<const void> owner;
    const std::uint8_t* data = nullptr;
    std::uint64_t size = 0;
};

/// Reaches storage bytes on demand, so a loader can map them lazily from disk.
class StorageProvider {
public:
    virtual ~StorageProvider() = default;
    /// Thread-safe. The error names the file and the record.
    virtual Result<StorageBytes> storageBytes(int storageIndex) const = 0;
    /// A key that sorts storages as they lie in their files, so that reading them in its
    /// order reads each file front to back (a whole-model scan). The default is the index.
    virtual std::uint64_t readOrder(int storageIndex) const { return std::uint64_t(storageIndex); }
};

struct StorageInfo {
    SmallText key;  // e.g. "data/3", or a safetensors tensor name
    DType dtype = DType::Unknown;
    std::uint64_t byteSize = 0;  // declared size of the record
};
// One per storage: 1M tensors of their own storage keep 1M of them.
static_assert(sizeof(StorageInfo) <= 32, "StorageInfo grew: the index of a large model grows with it");

/// Per-channel affine quantization (torch.per_channel_affine): an element's value is
/// (q - zeroPoints[c]) * scales[c], c its index along dimension `axis`.
struct QuantChannels {
    int axis = 0;
    std::vector<double> scales;
    std::vector<std::int64_t> zeroPoints;
};

struct TensorEntry {
    std::string name;  // full dotted name, as in state_dict()
    // (Fields are ordered without padding: an index keeps one entry per tensor.)
    TensorKind kind = TensorKind::Tensor;
    DType dtype = DType::Unknown;
    /// The shape's element count or byte count does not fit 64 bits: numel and bytes are
    /// pinned at INT64_MAX and the true figures come from entryNumelText()/entryBytesText().
    bool sizeOverflow = false;
    bool requiresGrad = false;
    /// The parameter this entry belongs to (an optimizer state entry such as
    /// optimizer.state.17.exp_avg, matched through param_groups' order), or -1.
    int belongsTo = -1;
    Dims shape;
    Dims strides;                    // in elements
    std::int64_t storageOffset = 0;  // in elements
    std::int64_t numel = 0;
    std::int64_t bytes = 0;  // numel * item size: the size of a contiguous copy
    int storage = -1;        // index into ModelIndex::storages
    int sharedWith = -1;     // first entry (in order) that lives in the same storage, or -1
    /// The file it is read from, as an index into ModelIndex::sourceFiles (the shard of a
    /// sharded checkpoint), or -1 for filePath.
    int sourceFile = -1;
    /// Affine quantization (quantized dtypes only): per tensor a scale and a zero point, or
    /// per channel (then those two are unused). Kept apart, so a tensor that is not
    /// quantized pays one null pointer for it; a copy of the entry copies it.
    struct Quantization {
        double scale = 1.0;
        std::int64_t zeroPoint = 0;
        std::shared_ptr<const QuantChannels> channels;
    };
    class QuantPtr {
    public:
        QuantPtr() = default;
        explicit QuantPtr(Quantization q) : m_q(std::make_unique<const Quantization>(std::move(q))) {}
        QuantPtr(const QuantPtr& o) : m_q(o.m_q ? std::make_unique<const Quantization>(*o.m_q) : nullptr) {}
        QuantPtr(QuantPtr&&) noexcept = default;
        QuantPtr& operator=(const QuantPtr& o)
        {
            if (this != &o)
                m_q = o.m_q ? std::make_unique<const Quantization>(*o.m_q) : nullptr;
            return *this;
        }
        QuantPtr& operator=(QuantPtr&&) noexcept = default;
        explicit operator bool() const { return bool(m_q); }
        const Quantization* operator->() const { return m_q.get(); }

    private:
        std::unique_ptr<const Quantization> m_q;
    };
    QuantPtr quant;  // null: scale 1, zero point 0, no channels

    double qScale() const { return quant ? quant->scale : 1.0; }
    std::int64_t qZeroPoint() const { return quant ? quant->zeroPoint : 0; }
    const std::shared_ptr<const QuantChannels>& qChannels() const
    {
        static const std::shared_ptr<const QuantChannels> none;
        return quant ? quant->channels : none;
    }
    void setQuantization(double scale, std::int64_t zeroPoint, std::shared_ptr<const QuantChannels> channels = {})
    {
        quant = QuantPtr(Quantization{scale, zeroPoint, std::move(channels)});
    }
};
// One per tensor: 1M tensors keep 1M of them.
static_assert(sizeof(TensorEntry) <= 136, "TensorEntry grew: the index of a large model grows with it");

/// A value of a checkpoint that is not a tensor (the epoch, a learning rate, a training
/// argument, a config field, the safetensors __metadata__), for the Metadata view.
struct MetadataEntry {
    std::string name;   // key path, dotted like tensor names ("epoch", "args.lr", "hyper_parameters.batch_size")
    std::string type;   // Python type ("int", "float", "str", "bool", "NoneType", "list", "dict", "argparse.Namespace")
    std::string value;  // shown value: Python-like, long text cut with its length, big containers summarised
};

/// A tensor's elements as they sit in their storage (possibly strided, possibly
/// shared). Validated: every element addressed lies inside `storage`.
struct TensorView {
    StorageBytes storage;
    DType dtype = DType::Unknown;
    std::vector<std::int64_t> shape;
    std::vector<std::int64_t> strides;
    std::int64_t offset = 0;  // elements
    double qScale = 1.0;
    std::int64_t qZeroPoint = 0;
    std::shared_ptr<const QuantChannels> qChannels;  // per-channel instead (see TensorEntry)

    /// Element count, or -1 when it does not fit 64 bits (views from ModelIndex::view()
    /// never overflow: it refuses them).
    std::int64_t numel() const;
    bool isContiguous() const;
    /// First byte of the element at `offset` (valid only when numel() > 0).
    const std::uint8_t* base() const { return storage.data + offset * dtypeItemSize(dtype); }
    /// Copies the elements, in C order, into `out` (numel() * item size bytes).
    void copyContiguous(std::uint8_t* out) const;
    /// Copies logical elements [begin, begin + count) in C order into `out`.
    void copyRange(std::int64_t begin, std::int64_t count, std::uint8_t* out) const;
    /// How many logical elements each distinct addressed element stands for because of
    /// broadcast (stride-0) dimensions: the product of the sizes of those dimensions.
    std::int64_t broadcastFactor() const;
    /// The same view with every broadcast dimension reduced to size 1: the elements that
    /// are actually stored, each once per broadcastFactor() logical elements.
    TensorView withoutBroadcast() const;
};

/// Everything ParamScope knows about one opened file. Immutable once loaded, so it can
/// be shared between threads.
class ModelIndex {
public:
    QString filePath;
    /// Every file the tensors are read from when that is more than filePath (the shards
    /// of a sharded checkpoint); export refuses to write over any of them.
    QStringList sourceFiles;
    ModelFormat format = ModelFormat::Unknown;
    QString engine;                   // which loader read it ("native", "libtorch")
    QStringList warnings;             // things the loader skipped or could not read, with reasons
    QMap<QString, QString> metadata;  // file-level key/values (safetensors `__metadata__`)
    /// Everything in the file that is not a tensor, in file order (also the safetensors
    /// `__metadata__`, as `__metadata__.<key>` of type str).
    std::vector<MetadataEntry> metadataEntries;
    /// The class of each module the file names one for: module path ("" for the root,
    /// "model.0.conv") -> qualified class name as the file names it
    /// ("torch.nn.modules.conv.Conv2d", "__torch__.models.common.Bottleneck").
    std::unordered_map<std::string, std::string> moduleTypes;
    /// Classes the file names that ParamScope never imports or calls (pickled modules'
    /// classes, argparse.Namespace, ...), each once, in first-seen order.
    QStringList foreignClasses;
    /// For a file with no tensors: why it has none ("a learning-rate scheduler's state").
    QString noTensorsReason;
    std::vector<TensorEntry> entries;  // state_dict order
    /// How Python reaches an entry from the object the file loads into, when that is not
    /// `obj[name]`: a chain such as `["model"]["fc.weight"]`, `["optimizer"]["state"][17]["exp_avg"]`
    /// or `["model"].get_parameter("model.0.conv.weight")`. Siblings share one base (the
    /// container's expression): 4 bytes an entry instead of a string; see access().
    struct AccessBase {
        enum class Step : std::uint8_t {
            Subscript,     // prefix + [the rest of the name as a string literal]
            GetParameter,  // prefix + .get_parameter(the rest of the name)
            GetBuffer,     // prefix + .get_buffer(the rest of the name)
            Exact,         // prefix is the whole chain
            Expression,    // prefix is a whole expression in which {} stands for the loaded object
                           // (torch.ops.quantized.linear_unpack({}.fc._packed_params._packed_params)[0])
        };
        std::string prefix;
        std::uint32_t nameOffset = 0;  // where the rest of the name starts
        Step step = Step::Exact;
    };
    std::vector<AccessBase> accessBases;
    /// Per entry: 1 + its index in accessBases, or 0 for obj[name]. Empty when every entry
    /// is reached as obj[name].
    std::vector<std::uint32_t> accessOf;
    std::vector<StorageInfo> storages;
    std::shared_ptr<const StorageProvider> provider;

    /// Fills `numel`, `bytes` and `sharedWith` from shapes and storages, and makes names
    /// unique (see makeNamesUnique()).
    void finalize();
    /// Names that flattening made equal get "#2", "#3", ... (the first unused) on every
    /// later occurrence, with a warning; the first keeps its name.
    void makeNamesUnique();

    int findEntry(std::string_view name) const;  // -1 if absent
    /// The chain that reaches entry `entry` from the loaded object (see AccessBase), or
    /// empty when that is obj[name]; for an Expression, the expression with {} for the object.
    std::string access(int entry) const;
    /// The whole Python expression that gives entry `entry` once the file is loaded into the
    /// variable `var`, or empty when that is var[name].
    std::string pythonPath(int entry, std::string_view var) const;
    /// Checked access to an entry's elements: an error (naming file and tensor) when the
    /// tensor's extent does not fit in its storage, its logical size passes
    /// limits::kMaxLogicalElements, or the storage cannot be read.
    Result<TensorView> view(int entry) const;
    /// A contiguous copy of an entry's bytes (C order, little-endian); an error, never an
    /// exception, when the copy is too large or memory runs out.
    Result<std::vector<std::uint8_t>> contiguousBytes(int entry) const;

    struct Totals {
        std::int64_t parameters = 0, buffers = 0, tensors = 0;  // by name
        std::int64_t numel = 0, bytes = 0;                      // shared storage counted once
        // Elements by kind (shared storage counted once, at its first name), as torchinfo
        // sums them: parameters split by requires_grad into trainable and frozen.
        std::int64_t parameterNumel = 0, bufferNumel = 0, tensorNumel = 0;
        std::int64_t trainableNumel = 0, frozenNumel = 0;
        std::int64_t tied = 0;                       // names whose data another name already holds
        std::map<DType, std::int64_t> bytesByDType;  // shared storage counted once
    };
    Totals totals() const;
    /// The same for the entries `subset` (valid indices, no duplicates; a module's tensors):
    /// storage shared by several of them counted once, at the first; a name sharing with
    /// an entry outside the subset counts as that storage's first within it.
    Totals totals(const std::vector<int>& subset) const;
};

/// Element count needed to hold the highest addressed element (0 for an empty tensor),
/// or -1 when sizes/strides are negative or overflow.
std::int64_t requiredStorageElements(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& strides,
                                     std::int64_t offset);
std::vector<std::int64_t> contiguousStrides(const std::vector<std::int64_t>& shape);
QString formatShape(const std::vector<std::int64_t>& shape);  // "[3, 4]"
/// An entry's element count ("1,234", exact even when it does not fit 64 bits).
QString entryNumelText(const TensorEntry& e);
/// An entry's size ("1.5 MiB"; "16.0 EiB" for sizes past 64 bits).
QString entryBytesText(const TensorEntry& e);
/// Exact decimal element and byte counts, for JSON (numbers of any size).
std::string entryNumelDecimal(const TensorEntry& e);
std::string entryBytesDecimal(const TensorEntry& e);
/// The last part of a qualified class name ("Conv2d" for "torch.nn.modules.conv.Conv2d"),
/// as a Type column shows it.
QString shortClassName(const std::string& qualified);
QString formatBytes(std::int64_t bytes);  // "1.5 MiB"
QString formatCount(std::int64_t n);      // "1,234,567"
/// An aggregate count (bytes: true) or element count that may have been pinned at INT64_MAX
/// because a tensor in it does not fit 64 bits: "> 8.00 EiB" / "> 9,223,372,036,854,775,807".
QString formatSize(std::int64_t n, bool bytes);

}  // namespace paramscope
