#pragma once

// Internal to core/formats: from an unpickled PyTorch document to index entries, whatever
// holds its storages (a zip archive's data/ records, the raw storages after a legacy
// torch.save file's pickles, a tar member). The walk names tensors as PyTorch does:
// torch.save values by key path, pickled nn.Modules (anywhere in the graph) and TorchScript
// modules in state_dict() order with kinds parameter / buffer; everything that is not a
// tensor becomes a metadata entry. Every tensor is checked against its storage record.

#include "base/result.h"
#include "formats/pickle/pickle.h"
#include "model/loadtypes.h"
#include "model/modelindex.h"

#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

struct TorchScriptClass;

namespace detail {

/// One storage's record in its container: its size, and a handle only the container reads.
struct StorageRecord {
    std::uint64_t size = 0;    // bytes the record holds
    std::uint64_t handle = 0;  // the container's own reference (an entry index, a file offset)
};

/// Where the storages a pickle names live: one record per storage key (the key of the
/// persistent id, "0", "140230958") in its container.
class StorageRecords {
public:
    virtual ~StorageRecords() = default;
    /// The record of `key`, or nullopt when there is none.
    virtual std::optional<StorageRecord> find(std::string_view key) const = 0;
    /// Why `record` cannot be read at `bytes` bytes (too large to inflate, say), or empty when
    /// it can. `name` is the record's name for the message.
    virtual QString unusable(const StorageRecord& /*record*/, std::uint64_t /*bytes*/, const QString& /*name*/) const
    {
        return {};
    }
    /// The first `bytes` bytes of `record` (small tensors read while loading).
    virtual Result<StorageBytes> read(const StorageRecord& record, std::uint64_t bytes) const = 0;
    /// The provider the index keeps: index storage i is `records[i]`, `bytes[i]` long.
    virtual std::shared_ptr<const StorageProvider> provider(std::vector<StorageRecord> records,
                                                            std::vector<std::uint64_t> bytes) const = 0;
    /// How the record of `key` is named in messages and StorageInfo::key ("data/3").
    virtual std::string recordName(std::string_view key) const { return std::string(key); }
};

struct WalkOptions {
    const LoadOptions* load = nullptr;  // cancel token and progress
    QString fileLabel;                  // the file's name, for messages
    /// The root is a TorchScript module (data.pkl of torch.jit.save): walked in state_dict()
    /// order with the parameters and buffers its class headers declare.
    bool torchScriptRoot = false;
    /// TorchScript class headers by qualified name, or null when the file has none for it.
    std::function<const TorchScriptClass*(std::string_view)> classOf;
    /// The tensors walked are a frozen model's constants, which Python cannot reach by name.
    bool unnamedConstants = false;
    /// Prefix of pickle-named objects in messages ("data.pkl").
    QString pickleName = QStringLiteral("data.pkl");
};

/// The weight and bias tensors of a torchbind ConvNdPackedParamsBase from its `state`, version
/// 2 ("2", [config, weight], [bias]) or 3 (3, config, [weight, bias]); false when the state is
/// neither. `bias` may be null (walkquantized.cpp).
bool convPackedTensors(const pickle::Value* state, const pickle::Value*& weight, const pickle::Value*& bias);

/// Walks `doc` into `index`: entries (checked against `records`), metadata entries, module
/// types, foreign classes and warnings; then gives the index its storages and provider and
/// finalizes it. Frees the document's values when done. Errors name the file.
Status indexDocument(pickle::Document& doc, const StorageRecords& records, const WalkOptions& options,
                     ModelIndex& index);

}  // namespace detail

}  // namespace paramscope
