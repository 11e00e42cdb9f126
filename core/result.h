#pragma once

#include <QString>

#include <optional>
#include <type_traits>
#include <utility>

namespace paramscope {

/// Arguments of a message, as text, for the one-pass QString::arg(a, b, c): chained
/// .arg(a).arg(b) would re-expand a "%2" inside a name or path given as `a`.
inline QString argText(const QString& s) { return s; }
inline QString argText(QLatin1String s) { return QString(s); }
inline QString argText(double v) { return QStringLiteral("%1").arg(v); }
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
QString argText(T v)
{
    return QString::number(v);
}

/// A value or a user-facing error message. No exception crosses core's public API;
/// failures come back as one of these, with a message that names the file and the cause.
template <typename T>
class Result {
public:
    Result(T value) : m_value(std::move(value)) {}  // NOLINT: implicit on purpose
    static Result failure(QString message)
    {
        Result r;
        r.m_error = std::move(message);
        return r;
    }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return *m_value; }
    T& value() & { return *m_value; }
    T&& value() && { return std::move(*m_value); }
    const T* operator->() const { return &*m_value; }
    T* operator->() { return &*m_value; }
    const QString& error() const { return m_error; }

private:
    Result() = default;
    std::optional<T> m_value;
    QString m_error;
};

/// Result for operations without a value.
class Status {
public:
    Status() = default;
    static Status failure(QString message)
    {
        Status s;
        s.m_failed = true;
        s.m_error = std::move(message);
        return s;
    }
    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    const QString& error() const { return m_error; }

private:
    bool m_failed = false;
    QString m_error;
};

}  // namespace paramscope
