#pragma once

#include "result.h"

#include <QString>

#include <cstdint>
#include <memory>

namespace paramscope {

/// A whole file mapped read-only into memory. Owned through shared_ptr so that
/// StorageBytes::owner can keep the mapping alive while tensor bytes are in use.
///
/// What is guaranteed about a file that changes while mapped (BAD_INPUTS item 16):
/// - Replacing the file (rename over it, as editors and torch.save do) is harmless: we
///   keep the old inode open and mapped, so the bytes stay those of the opened file.
/// - Truncating it in place would make reads past the new end raise SIGBUS. `check()`
///   re-reads the size of the open file descriptor, and every StorageProvider calls it
///   before handing out bytes, so a truncation that happened before the call is
///   reported as an error. A truncation racing with an access that is already under
///   way cannot be caught without a signal handler; it needs another process to cut
///   the file while ParamScope is reading that very tensor.
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

    /// Fails when the file has become shorter than the mapping since it was opened.
    Status check() const;

private:
    MappedFile() = default;
    QString m_path;
    int m_fd = -1;
    const std::uint8_t* m_data = nullptr;
    std::uint64_t m_size = 0;
};

}  // namespace paramscope
