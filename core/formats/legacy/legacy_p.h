#pragma once

// Internal to core/formats/legacy: what the legacy torch.save and tar readers share. Small
// pickles read back to back out of a byte range of the mapped file, little-endian integers
// read with bounds checks, storage keys as text, and the messages, which name the file.

#include "base/mappedfile.h"
#include "base/result.h"
#include "base/textutil.h"
#include "formats/pickle/pickle.h"
#include "model/loadtypes.h"

#include <QString>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paramscope::legacy {

inline QString qs(std::string_view s)
{
    return utf8ToQString(s);
}

/// "'file' cannot be opened: what".
inline QString cannotOpen(const MappedFile& f, const QString& what)
{
    return QStringLiteral("'%1' cannot be opened: %2").arg(argText(f.label()), argText(what));
}

template <typename T>
Result<T> fail(const MappedFile& f, ErrorKind kind, const QString& what)
{
    return Result<T>::failure(kind, cannotOpen(f, what));
}

/// A byte range [begin, end) of the mapped file that is read front to back: a whole legacy
/// file, or one tar member. Every read checks that it stays inside.
struct Cursor {
    const MappedFile* file = nullptr;
    std::uint64_t pos = 0;
    std::uint64_t end = 0;
    QString where;  // "the file", "tar member 'storages'": for messages

    std::uint64_t left() const { return end - pos; }
};

/// One pickle at the cursor, which then stands after its STOP. `what` names it in messages
/// ("the storage key list"). Failures keep the unpickler's kind.
Result<pickle::Document> readPickle(Cursor& c, const QString& what, pickle::TorchPickleOptions options = {});

/// A little-endian signed integer of 4 or 8 bytes at the cursor, which then stands after it.
/// `what` names it in the message when the range ends first.
Result<std::int64_t> readInt(Cursor& c, int bytes, const QString& what);

/// A storage key as text: a string as it is, an int in decimal (the tar format's keys are
/// Python ids); nullopt for anything else.
std::optional<std::string> keyText(const pickle::Value* v);

/// Fails with the cancelled message when the load was cancelled.
inline Status checkCancel(const MappedFile& f, const LoadOptions& o)
{
    if (isCancelled(o.cancel))
        return Status::failure(ErrorKind::Cancelled, cancelledMessage(f.path()));
    return {};
}

}  // namespace paramscope::legacy
