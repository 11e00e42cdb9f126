#pragma once

#include <QString>

#include <optional>
#include <type_traits>
#include <utility>

namespace paramscope {

/// Arguments of a message, as text, for the one-pass QString::arg(a, b, c): chained
/// .arg(a).arg(b) would re-expand a "%2" inside a name or path given as `a`.
inline QString argText(const QString& s)
{
    return s;
}
inline QString argText(QLatin1String s)
{
    return QString(s);
}
inline QString argText(double v)
{
    return QStringLiteral("%1").arg(v);
}
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
QString argText(T v)
{
    return QString::number(v);
}

/// What kind of failure an error is, for code that must act on it (a cancelled load is not
/// reported as an error; an I/O error may be retried). The message is for people and is
/// never inspected to find this out.
enum class ErrorKind {
    None,         // not a failure
    Cancelled,    // the caller cancelled the operation
    Io,           // the file could not be opened, read or written (missing, permission, disk)
    Corrupt,      // the file is malformed or lies about itself
    Unsupported,  // well-formed, but a format, feature or dtype ParamScope does not read
    Limit,        // past a resource limit (core/base/resourcelimits.h) or out of memory
    Failed,       // any other failure
};
/// "cancelled", "I/O error", "corrupt", "unsupported", "resource limit", "failed" ("" for None).
inline const char* errorKindName(ErrorKind k)
{
    switch (k) {
        case ErrorKind::None:
            return "";
        case ErrorKind::Cancelled:
            return "cancelled";
        case ErrorKind::Io:
            return "I/O error";
        case ErrorKind::Corrupt:
            return "corrupt";
        case ErrorKind::Unsupported:
            return "unsupported";
        case ErrorKind::Limit:
            return "resource limit";
        case ErrorKind::Failed:
            return "failed";
    }
    return "";
}

/// A value or a user-facing error message. No exception crosses core's public API;
/// failures come back as one of these, with a message that names the file and the cause.
template <typename T>
class Result {
public:
    Result(T value) : m_value(std::move(value)) {}  // NOLINT: implicit on purpose
    static Result failure(ErrorKind kind, QString message)
    {
        Result r;
        r.m_kind = kind == ErrorKind::None ? ErrorKind::Failed : kind;
        r.m_error = std::move(message);
        return r;
    }
    static Result failure(QString message) { return failure(ErrorKind::Failed, std::move(message)); }
    /// The failure of another result (of any value type), kind and message kept.
    template <typename E>
    static Result failureFrom(const E& other)
    {
        return failure(other.kind(), other.error());
    }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return *m_value; }
    T& value() & { return *m_value; }
    T&& value() && { return std::move(*m_value); }
    const T* operator->() const { return &*m_value; }
    T* operator->() { return &*m_value; }
    const QString& error() const { return m_error; }
    /// ErrorKind::None when ok().
    ErrorKind kind() const { return m_kind; }
    bool cancelled() const { return m_kind == ErrorKind::Cancelled; }

private:
    Result() = default;
    std::optional<T> m_value;
    ErrorKind m_kind = ErrorKind::None;
    QString m_error;
};

/// Result for operations without a value.
class Status {
public:
    Status() = default;
    static Status failure(ErrorKind kind, QString message)
    {
        Status s;
        s.m_kind = kind == ErrorKind::None ? ErrorKind::Failed : kind;
        s.m_error = std::move(message);
        return s;
    }
    static Status failure(QString message) { return failure(ErrorKind::Failed, std::move(message)); }
    template <typename E>
    static Status failureFrom(const E& other)
    {
        return failure(other.kind(), other.error());
    }
    bool ok() const { return m_kind == ErrorKind::None; }
    explicit operator bool() const { return ok(); }
    const QString& error() const { return m_error; }
    ErrorKind kind() const { return m_kind; }
    bool cancelled() const { return m_kind == ErrorKind::Cancelled; }

private:
    ErrorKind m_kind = ErrorKind::None;
    QString m_error;
};

}  // namespace paramscope
