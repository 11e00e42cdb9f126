#pragma once

#include "base/result.h"

#include <QString>

#include <cstdint>
#include <memory>

namespace paramscope {

/// A whole file mapped read-only into memory. Owned through shared_ptr so that
/// StorageBytes::owner can keep the mapping alive while tensor bytes are in use.
///
/// A file that changes while mapped (truncated, or rewritten, by another program):
/// - Replacing the file (rename over it, as editors and torch.save do) is harmless: we
///   keep the old inode open and mapped, so the bytes stay those of the opened file.
/// - Truncating it in place makes reads past the new end raise SIGBUS. A process-wide
///   SIGBUS handler recognises addresses inside a live MappedFile, maps a page of zeros
///   over the lost page (so the interrupted read finishes, on any thread, without
///   unwinding through C++ frames) and marks the mapping damaged. `check()` then fails,
///   and every reader, statistics run and export checks it before it reports a result, so
///   the user gets "'x' was truncated while it was read" instead of a dead process or
///   numbers made of zeros. A fault anywhere else is passed on to the previous handler.
class MappedFile {
public:
    /// Maps `path`; an empty file gives a valid object of size 0 (callers report it).
    static Result<std::shared_ptr<const MappedFile>> open(const QString& path);

    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const { return m_data; }
    std::uint64_t size() const { return m_size; }
    const QString& path() const { return m_path; }
    /// The file name only, for messages.
    QString label() const;

    /// True when [offset, offset + length) lies inside the mapping (overflow-safe).
    bool contains(std::uint64_t offset, std::uint64_t length) const
    {
        return offset <= m_size && length <= m_size - offset;
    }

    /// Fails when the file has become shorter than the mapping since it was opened, or a
    /// read of the mapping faulted (see above).
    Status check() const;
    /// True once a read of this mapping hit a page the file no longer has.
    bool faulted() const;

    /// check() of the mapping that holds `p`, if any live mapping does (heap memory, such as
    /// an inflated record, always passes).
    static Status checkAddress(const void* p);

    /// How a long sequential read (a whole-model scan) tells the kernel what it needs.
    enum class Advice {
        Sequential,  // read ahead aggressively over the range
        WillNeed,    // start reading the range from disk now (asynchronously)
        Release,     // drop this process's pages of the range (they are read again if touched),
                     // but the one the range ends in: the next record starts there
    };
    /// Gives `advice` for the pages of [p, p + length) when they lie in a live mapping, and
    /// returns whether it was given. Heap memory (an inflated record) is never touched, so
    /// any StorageBytes may be passed. Releasing is safe while other threads read the range:
    /// the mapping is read-only, so a released page is read again from the file.
    static bool advise(const void* p, std::uint64_t length, Advice advice);

private:
    MappedFile() = default;
    int m_slot = -1;  // in the fault registry
    QString m_path;
    int m_fd = -1;
    const std::uint8_t* m_data = nullptr;
    std::uint64_t m_size = 0;
};

}  // namespace paramscope
