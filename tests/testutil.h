#pragma once
// Helpers shared by the tests: reading the truth files the fixture scripts write, and
// decoding tensor bytes into doubles independently of the code under test.

#include "base/dtype.h"
#include "base/sanitizer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QtEndian>
#include <QtNumeric>

#include <cstdint>
#include <cstring>
#include <vector>

namespace paramscope::test {

inline QString fixture(const QString& name)
{
    return QStringLiteral(PARAMSCOPE_FIXTURES "/") + name;
}

/// The whole file, or empty when it cannot be read.
inline QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// A JSON array of integers (shapes, strides in the truth files).
inline std::vector<std::int64_t> ints(const QJsonValue& v)
{
    std::vector<std::int64_t> out;
    for (const auto& x : v.toArray())
        out.push_back(x.toInteger());
    return out;
}

inline QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

/// paramscope-cli run as a user runs it.
struct CliRun {
    int code = -1;  // -1: crashed or timed out
    QString out, err;
};

/// Runs `program` with `args` and waits up to `timeoutMs`; `env` (NAME=value entries) is
/// added to the environment.
inline CliRun runProcess(const QString& program, const QStringList& args, int timeoutMs, const QStringList& env = {})
{
    QProcess p;
    if (!env.isEmpty()) {
        QStringList e = QProcess::systemEnvironment();
        e << env;
        p.setEnvironment(e);
    }
    p.start(program, args);
    p.waitForFinished(timeoutMs);
    CliRun r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

/// Runs paramscope-cli; `env` (NAME=value entries) is added to the environment.
inline CliRun runCli(const QStringList& args, const QStringList& env = {})
{
    return runProcess(QStringLiteral(PARAMSCOPE_CLI), args, 120000, env);
}

/// paramscope-cli under an address-space limit (prlimit), as a small machine would run it.
inline CliRun runCliLimited(qint64 bytes, const QStringList& args)
{
    return runProcess(
        QStringLiteral("prlimit"),
        QStringList{QStringLiteral("--as=%1").arg(bytes), QStringLiteral("--"), QStringLiteral(PARAMSCOPE_CLI)} + args,
        300000);
}

/// Little-endian element bytes -> doubles (complex: real, imaginary interleaved).
inline std::vector<double> decode(paramscope::DType t, const std::uint8_t* p, std::int64_t numel)
{
    using paramscope::DType;
    std::vector<double> out;
    for (std::int64_t i = 0; i < numel; ++i) {
        switch (t) {
            case DType::Float32: {
                float v;
                std::memcpy(&v, p + 4 * i, 4);
                out.push_back(v);
                break;
            }
            case DType::Float64: {
                double v;
                std::memcpy(&v, p + 8 * i, 8);
                out.push_back(v);
                break;
            }
            case DType::Float16: {
                qfloat16 v;
                std::memcpy(&v, p + 2 * i, 2);
                out.push_back(double(float(v)));
                break;
            }
            case DType::BFloat16: {
                std::uint16_t b;
                std::memcpy(&b, p + 2 * i, 2);
                std::uint32_t bits = std::uint32_t(b) << 16;
                float v;
                std::memcpy(&v, &bits, 4);
                out.push_back(v);
                break;
            }
            case DType::Int8:
                out.push_back(double(std::int8_t(p[i])));
                break;
            case DType::UInt8:
                out.push_back(double(p[i]));
                break;
            case DType::Bool:
                out.push_back(p[i] ? 1.0 : 0.0);
                break;
            case DType::Int16: {
                std::int16_t v;
                std::memcpy(&v, p + 2 * i, 2);
                out.push_back(v);
                break;
            }
            case DType::Int32: {
                std::int32_t v;
                std::memcpy(&v, p + 4 * i, 4);
                out.push_back(v);
                break;
            }
            case DType::Int64: {
                std::int64_t v;
                std::memcpy(&v, p + 8 * i, 8);
                out.push_back(double(v));
                break;
            }
            case DType::Complex64: {
                float v[2];
                std::memcpy(v, p + 8 * i, 8);
                out.push_back(v[0]);
                out.push_back(v[1]);
                break;
            }
            case DType::Complex128: {
                double v[2];
                std::memcpy(v, p + 16 * i, 16);
                out.push_back(v[0]);
                out.push_back(v[1]);
                break;
            }
            default:
                out.push_back(qQNaN());
        }
    }
    return out;
}

/// The "values" array of a truth entry, flattened the same way as decode().
inline std::vector<double> truthValues(const QJsonArray& values)
{
    std::vector<double> out;
    for (const auto& v : values) {
        if (v.isArray()) {
            out.push_back(v.toArray().at(0).toDouble());
            out.push_back(v.toArray().at(1).toDouble());
        } else if (v.isBool()) {
            out.push_back(v.toBool() ? 1.0 : 0.0);
        } else {
            out.push_back(v.toDouble());
        }
    }
    return out;
}

}  // namespace paramscope::test
