#pragma once

// Internal to the pickle walk (walker.h): the Walker's state, shared by walker.cpp (storages,
// tensor checks, TorchScript modules, the result) and walkvalues.cpp (torch.save values:
// containers, pickled nn.Modules, metadata entries, optimizer state).

#include "base/textutil.h"
#include "formats/torch/walker.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace paramscope::detail {

constexpr int kMaxDepth = 256;  // nesting of modules / containers followed

/// `prefix.name`, or `name` at the top.
inline std::string join(const std::string& prefix, const std::string& name)
{
    return prefix.empty() ? name : prefix + "." + name;
}
/// A Python string literal, as UTF-8.
inline std::string pythonLiteral(std::string_view s)
{
    return pythonStringLiteral(s).toStdString();
}

/// Where a value sits: its dotted name, and the step from its parent by which Python reaches
/// it (the expression `["model"]["fc.weight"]` is built only for the tensors that need it).
struct Place {
    enum class Step : std::uint8_t {
        Root,       // the loaded object itself
        Key,        // parent[key]
        Index,      // parent[index]
        Attribute,  // parent.key
        Opaque,     // no plain Python expression (a set's item, what an object was built from)
    };
    std::string name;
    const Place* parent = nullptr;
    Step step = Step::Root;
    const pickle::Value* key = nullptr;  // Key, Attribute
    std::size_t index = 0;               // Index

    /// Reached as obj[name]: a string key of the loaded object.
    bool flat() const;
    /// The Python expression from the loaded object (empty for the object itself, and when a
    /// step on the way is Opaque).
    std::string access() const;
};

class Walker {
public:
    Walker(pickle::Document& doc, const StorageRecords& records, const WalkOptions& options, ModelIndex& index)
        : m_doc(doc), m_records(records), m_options(options), m_index(index)
    {
    }
    Status run();

private:
    using Value = pickle::Value;

    // walker.cpp
    void prepareStorages();
    void keepUsedStorages();
    std::string_view inlineBytes(const pickle::StorageRef& s) const;
    void skip(const std::string& name, const QString& why);
    /// Validates a tensor against its storage and adds it; true when it was added.
    /// `access`: 1 + the ModelIndex::accessBases index of its Python path, 0 for obj[name].
    bool addTensor(const std::string& name, const pickle::TensorRef& t, TensorKind kind, std::uint32_t access);
    /// Appends an entry with its access base (1 + index, 0 for obj[name]).
    void pushEntry(TensorEntry&& e, std::uint32_t access);
    bool addQuantChannels(const std::string& name, const pickle::TensorRef& t, TensorEntry& e);
    template <typename Out>
    bool smallTensor(const pickle::TensorRef& r, std::vector<Out>& out, QString& why);
    Status tooDeep(const std::string& name) const;
    void skipLongName(const std::string& name);
    bool childNameTooLong(const std::string& prefix, std::string_view key);
    Status visit(const std::string& name);
    const TorchScriptClass* classOf(std::string_view qualified) const;
    bool isScriptModule(const Value* v) const;
    Status walkScriptModule(const Value* m, const std::string& prefix, int depth);
    QString fail(const QString& what) const;

    // walkquantized.cpp: quantized TorchScript modules, meta tensors, made-up storages
    /// A module whose state is a tuple (quantized ConvNd's __getstate__): its weight, bias,
    /// scale and zero point as the eager module's state_dict() names them. False when the
    /// tuple is not one of those.
    bool walkQuantizedState(const Value* m, const std::string& dotted);
    /// The state_dict() entries a quantized module keeps outside its tensors: scale and zero
    /// point attributes (as 0-d tensors) and the tensors of its torchbind packed params.
    void addQuantizedAttributes(const Value* m, const Value* state, const std::string& dotted);
    /// The tensors of torchbind packed params of class `cls` whose state is `state`.
    void addPackedParams(std::string_view cls, const Value* state, const std::string& name);
    /// A 0-d tensor made from a number of the pickle (a scale, a zero point).
    void addScalarTensor(const std::string& name, DType dtype, double real, std::int64_t integer, std::uint32_t access);
    /// Python paths of quantized modules' tensors: scriptPath is the module as an attribute
    /// chain of the loaded object (of m_quantizedRoot, for an eager model pickled whole).
    std::string scriptPath(const std::string& dotted) const;
    std::uint32_t expressionAccess(std::string expression);
    std::uint32_t packedAccess(const std::string& unpack, const std::string& packed, std::size_t item);
    /// A meta tensor: shape and dtype, no storage.
    bool addMetaTensor(const std::string& name, const pickle::TensorRef& t, TensorKind kind, std::uint32_t access);
    int m_metaTensors = 0;

    // walkvalues.cpp
    Status walkValue(const Value* v, const Place& at, int depth);
    Status walkContainer(const Value* v, const Place& at, int depth);
    Status walkObject(const Value* v, const Place& at, int depth);
    Status walkPickledModule(const Value* m, const Place& at, const Place& root, int depth);
    /// The access base of a tensor at `at` (0: obj[name]); siblings share one.
    std::uint32_t accessBase(const Place& at);
    std::uint32_t moduleAccessBase(const Place& root, TensorKind kind);
    std::uint32_t newAccessBase(std::string prefix, std::uint32_t nameOffset, ModelIndex::AccessBase::Step step);
    void addMetadata(const std::string& name, const Value* v);
    void addMetadata(const std::string& name, std::string type, std::string value);
    void noteForeignClass(std::string_view name);
    void noteOptimizer(const Value* v, const Place& at);
    void linkOptimizers();
    void explainNoTensors();

    pickle::Document& m_doc;
    const StorageRecords& m_records;
    const WalkOptions& m_options;
    ModelIndex& m_index;

    std::vector<StorageInfo> m_storageInfo;  // per storage of the document
    std::vector<QString> m_storageProblem;
    std::vector<bool> m_storageUsable;
    std::vector<StorageRecord> m_storageRecord;  // per storage of the document (not inline)
    std::unordered_set<std::string> m_warnedNoClass;
    std::unordered_set<std::string> m_foreign;
    size_t m_visits = 0;
    std::uint64_t m_channelValues = 0;  // per-channel quantization channels of the entries so far
    std::size_t m_nameBytes = 0;        // of the tensors added so far
    std::size_t m_metadataBytes = 0;    // of the metadata entries so far
    bool m_metadataFull = false;
    int m_outsideStateDict = 0;  // walking attributes whose tensors are not in state_dict()
    int m_longNames = 0;
    int m_skipped = 0;
    QString m_firstProblem;

    /// The tensors of one model in the file (a pickled module, or a dict of tensors), as
    /// torch.optim numbers them: entries [begin, end) of the index.
    struct ParameterSet {
        std::size_t begin = 0, end = 0;
        bool module = false;  // only its parameters count (else: every tensor but BatchNorm statistics)
    };
    std::vector<ParameterSet> m_parameterSets;
    // The last access bases made, by the name of the container they belong to (Places live
    // on the stack: their addresses are reused, their names tell them apart).
    const Place* m_lastContainerPlace = nullptr;
    std::string m_lastContainer;
    std::uint32_t m_lastContainerBase = 0;
    const Place* m_quantizedRoot = nullptr;  // the eager model whose quantized modules are walked
    std::string m_lastModule;
    std::uint32_t m_lastModuleBases[2] = {0, 0};  // get_parameter, get_buffer
    /// An optimizer state_dict: `state` keyed by parameter id, `param_groups` listing the ids.
    struct Optimizer {
        std::vector<std::int64_t> order;  // parameter ids in param_groups order
        std::string statePrefix;          // "optimizer.state"
        std::size_t begin = 0, end = 0;   // its entries
    };
    std::vector<Optimizer> m_optimizers;
};

}  // namespace paramscope::detail
