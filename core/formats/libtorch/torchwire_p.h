#pragma once
// Internal to core/formats/libtorch: the helper's result file (the layout is described in
// torchhelper.h): its constants, a little-endian writer and a bounds-checked reader for
// it, and the helper's exit code for a load error. Shared by the client (torchhelperclient.cpp),
// the helper's side (torchhelperserver.cpp) and the format's encode/decode (torchresult.cpp).

#include <QByteArray>
#include <QFileInfo>
#include <QString>
#include <QtEndian>

#include <cstdint>
#include <cstring>
#include <string>

namespace paramscope::detail::torchwire {

constexpr char kMagic[8] = {'P', 'S', 'T', 'O', 'R', 'C', 'H', '1'};
constexpr std::uint64_t kAlign = 64;
constexpr std::uint32_t kMaxRank = 1024;         // far above anything PyTorch writes
constexpr std::uint32_t kMaxString = 64u << 20;  // one name or warning
constexpr int kExitLoadError = 3;

/// The model's file name for messages (the path when it has none).
inline QString fileLabel(const QString& path)
{
    const QString n = QFileInfo(path).fileName();
    return n.isEmpty() ? path : n;
}

class Writer {
public:
    QByteArray bytes;
    template <typename T>
    void put(T v)
    {
        const T le = qToLittleEndian(v);
        bytes.append(reinterpret_cast<const char*>(&le), sizeof le);
    }
    void putF64(double d)
    {
        std::uint64_t u;
        std::memcpy(&u, &d, sizeof u);
        put<std::uint64_t>(u);
    }
    void putString(const std::string& s)
    {
        put<std::uint32_t>(std::uint32_t(s.size()));
        bytes.append(s.data(), qsizetype(s.size()));
    }
    void putString(const QString& s) { putString(s.toStdString()); }
};

/// Reads from untrusted bytes: every read is bounds-checked; after the first failure
/// every read fails and returns zero.
class Reader {
public:
    Reader(const std::uint8_t* p, std::uint64_t n) : m_p(p), m_left(n) {}
    bool ok() const { return m_ok; }
    std::uint64_t left() const { return m_left; }
    template <typename T>
    T get()
    {
        if (!m_ok || m_left < sizeof(T)) {
            m_ok = false;
            return T{};
        }
        T v;
        std::memcpy(&v, m_p, sizeof v);
        m_p += sizeof v;
        m_left -= sizeof v;
        return qFromLittleEndian(v);
    }
    double getF64()
    {
        const auto u = get<std::uint64_t>();
        double d;
        std::memcpy(&d, &u, sizeof d);
        return d;
    }
    std::string getString()
    {
        const auto n = get<std::uint32_t>();
        if (!m_ok || n > kMaxString || n > m_left) {
            m_ok = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(m_p), n);
        m_p += n;
        m_left -= n;
        return s;
    }
    /// A count of items of at least `minItemBytes` each that must fit in what is left.
    std::uint64_t getCount(std::uint64_t minItemBytes)
    {
        const auto n = get<std::uint32_t>();
        if (m_ok && minItemBytes > 0 && n > m_left / minItemBytes)
            m_ok = false;
        return m_ok ? n : 0;
    }
    void fail() { m_ok = false; }

private:
    const std::uint8_t* m_p;
    std::uint64_t m_left;
    bool m_ok = true;
};

}  // namespace paramscope::detail::torchwire
