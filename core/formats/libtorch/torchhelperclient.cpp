// The LibTorch engine's client, run in the calling program (loadWithLibTorch): the
// native checks first, then the helper process with a memory cap, its progress lines
// relayed and its crash, failure or cancel turned into an error naming the file, then
// the result file read back (torchresult.cpp).
#include "formats/engines_p.h"
#include "formats/libtorch/torchhelper.h"
#include "formats/libtorch/torchwire_p.h"
#include "formats/loader.h"

#include "base/sanitizer.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryFile>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <new>

namespace paramscope::detail {

using namespace torchwire;

namespace {

std::uint64_t defaultMemoryCap(const QString& path)
{
    // LibTorch reads every record into memory (about 1.4x the file at peak) and maps its
    // libraries and thread stacks (the demo model opens under a 1 GiB cap): 2 GiB plus 4x
    // the file stops a runaway allocation long before the machine swaps and leaves room
    // for real models. PARAMSCOPE_TORCH_HELPER_MAX_MEMORY (bytes, 0 = none) overrides it.
    const auto size = std::uint64_t(std::max<qint64>(0, QFileInfo(path).size()));
    if (size > (std::uint64_t(1) << 60) / 4)
        return 0;
    return (2ull << 30) + 4 * size;
}

QString lastLine(const QByteArray& text)
{
    const QList<QByteArray> lines = text.split('\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        const QString l = QString::fromUtf8(it->trimmed());
        if (!l.isEmpty())
            return l.left(300);
    }
    return {};
}

QString clean(const QByteArray& raw)
{
    QString s = QString::fromUtf8(raw).left(4000);
    for (QChar& c : s)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = QLatin1Char(' ');
    return s.trimmed();
}

/// Waits for the helper, relaying its progress lines (scaled into 0.05..0.9); the failure
/// that ended it (a cancel, a crash, a non-zero exit) or ok.
Status awaitHelper(QProcess& p, const QString& path, const std::function<void(double, const QString&)>& progress,
                   const std::function<bool()>& cancelled)
{
    const QString name = fileLabel(path);
    QByteArray pending, errTail;
    QString helperError;
    auto drain = [&] {
        pending += p.readAllStandardOutput();
        qsizetype nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
            const QByteArray line = pending.left(nl);
            pending.remove(0, nl + 1);
            const QList<QByteArray> parts = line.split('\t');
            if (parts.size() >= 3 && parts[0] == "progress") {
                bool ok = false;
                const double f = parts[1].toDouble(&ok);
                if (ok && std::isfinite(f))
                    progress(0.05 + 0.85 * std::clamp(f, 0.0, 1.0), clean(parts[2]));
            } else if (parts.size() >= 2 && parts[0] == "error") {
                helperError = clean(line.mid(6));
            }
        }
        if (pending.size() > (1 << 20))  // a line this long is not from the protocol
            pending.clear();
        errTail += p.readAllStandardError();
        if (errTail.size() > 8192)
            errTail = errTail.right(4096);
    };
    while (!p.waitForFinished(50)) {
        drain();
        if (cancelled()) {
            p.kill();
            p.waitForFinished(10000);
            return Status::failure(ErrorKind::Cancelled, cancelledMessage(path));
        }
        if (p.state() == QProcess::NotRunning)
            break;
    }
    drain();
    if (!pending.isEmpty()) {
        pending += '\n';
        drain();
    }
    if (p.exitStatus() == QProcess::CrashExit || p.error() == QProcess::Crashed) {
        const int sig = p.exitCode();
        const char* what = sig > 0 ? strsignal(sig) : nullptr;
        return Status::failure(QStringLiteral("the LibTorch engine crashed while reading '") + name +
                               QStringLiteral("' (signal ") + QString::number(sig) +
                               (what ? QStringLiteral(", ") + QString::fromLocal8Bit(what) : QString()) +
                               QLatin1Char(')'));
    }
    if (p.exitCode() != 0) {
        if (!helperError.isEmpty())
            return Status::failure(helperError);
        const QString tail = lastLine(errTail);
        return Status::failure(QStringLiteral("the LibTorch engine failed while reading '") + name +
                               QStringLiteral("' (exit code ") + QString::number(p.exitCode()) +
                               (tail.isEmpty() ? QString() : QStringLiteral(": ") + clean(tail.toUtf8())) +
                               QLatin1Char(')'));
    }
    return {};
}

}  // namespace

QString findTorchHelper(QStringList* tried)
{
    QStringList candidates;
    const QString env = qEnvironmentVariable("PARAMSCOPE_TORCH_HELPER");
    if (!env.isEmpty())
        candidates << env;
    if (QCoreApplication::instance()) {
        const QDir here(QCoreApplication::applicationDirPath());
        const QString name = QString::fromLatin1(kTorchHelperName);
        candidates << here.filePath(name)
                   << QDir::cleanPath(here.filePath(QStringLiteral(PARAMSCOPE_HELPER_FROM_BIN "/") + name));
    }
#ifdef PARAMSCOPE_TORCH_HELPER_BUILD_PATH
    if (!qEnvironmentVariableIsSet("PARAMSCOPE_NO_BUILD_PATHS"))
        candidates << QStringLiteral(PARAMSCOPE_TORCH_HELPER_BUILD_PATH);
#endif
    for (const QString& c : candidates) {
        const QFileInfo fi(c);
        if (fi.isFile() && fi.isExecutable())
            return fi.absoluteFilePath();
        if (tried)
            *tried << c + QStringLiteral(" (not found)");
    }
    return {};
}

LoadResult loadWithLibTorch(const QString& path, const LoadOptions& options)
{
    try {
        const QString name = fileLabel(path);
        auto cancelled = [&] { return isCancelled(options.cancel); };
        double shown = 0.0;
        auto progress = [&](double f, const QString& text) {
            if (!options.progress)
                return;
            shown = std::max(shown, std::clamp(f, 0.0, 1.0));
            options.progress(shown, text);
        };
        if (cancelled())
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));

        // 1. The native checks first: what they refuse, LibTorch never sees.
        progress(0.0, QStringLiteral("Checking the file"));
        LoadOptions nativeOptions;
        nativeOptions.engine = LoaderEngine::Native;
        nativeOptions.cancel = options.cancel;
        const LoadResult native = loadModel(path, nativeOptions);
        if (!native) {
            if (cancelled())
                return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
            return LoadResult::failure(
                native.kind(),
                native.error() + QStringLiteral(" (refused by the native checks, so LibTorch did not read it)"));
        }
        const ModelFormat format = native.value()->format;
        if (format == ModelFormat::TorchSaveLegacy || format == ModelFormat::TorchSaveTar)
            return LoadResult::failure(
                ErrorKind::Unsupported,
                QStringLiteral("'%1' is a legacy torch.save file (%2): the LibTorch engine reads only files written "
                               "by torch.jit.save; the native engine reads it")
                    .arg(argText(name), argText(modelFormatName(format))));

        // 2. LibTorch in the helper.
        QStringList tried;
        const QString helper = findTorchHelper(&tried);
        if (helper.isEmpty())
            return LoadResult::failure(
                QLatin1Char('\'') + name +
                QStringLiteral("' cannot be opened with the LibTorch engine: its helper program ") +
                QString::fromLatin1(kTorchHelperName) + QStringLiteral(" was not found (") +
                tried.join(QStringLiteral("; ")) + QLatin1Char(')'));
        QTemporaryFile result(QDir(QDir::tempPath()).filePath(QStringLiteral("paramscope-torch-XXXXXX.result")));
        if (!result.open())
            return LoadResult::failure(
                QLatin1Char('\'') + name +
                QStringLiteral("' cannot be opened with the LibTorch engine: no temporary file (") +
                result.errorString() + QLatin1Char(')'));
        const QString resultPath = result.fileName();
        result.close();

        std::uint64_t cap = defaultMemoryCap(path);
        if (qEnvironmentVariableIsSet("PARAMSCOPE_TORCH_HELPER_MAX_MEMORY")) {
            bool ok = false;
            const auto v = qEnvironmentVariable("PARAMSCOPE_TORCH_HELPER_MAX_MEMORY").toULongLong(&ok);
            if (ok)
                cap = v;
        }
        QStringList args{QFileInfo(path).absoluteFilePath(), resultPath};
        if (cap > 0)
            args << QStringLiteral("--max-memory=") + QString::number(cap);
        QProcess p;
        p.setProgram(helper);
        p.setArguments(args);
        p.setProcessChannelMode(QProcess::SeparateChannels);
        p.setStandardInputFile(QProcess::nullDevice());
#if PARAMSCOPE_ASAN
        // In a sanitizer build the helper's own crash must stay a signal (what a user's
        // build reports), not become AddressSanitizer's report and exit code 1.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
        if (!asan.isEmpty())
            asan += QLatin1Char(':');
        env.insert(QStringLiteral("ASAN_OPTIONS"),
                   asan + QStringLiteral("handle_segv=0:handle_sigbus=0:handle_abort=0"));
        p.setProcessEnvironment(env);
#endif
        progress(0.05, QStringLiteral("Starting the LibTorch engine"));
        p.start();
        if (!p.waitForStarted(30000))
            return LoadResult::failure(
                QLatin1Char('\'') + name + QStringLiteral("' cannot be opened with the LibTorch engine: its helper ") +
                helper + QStringLiteral(" did not start (") + p.errorString() + QLatin1Char(')'));

        if (Status st = awaitHelper(p, path, progress, cancelled); !st)
            return LoadResult::failureFrom(st);
        if (cancelled())
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));

        // 3. The result, checked like any untrusted file; the name is unlinked once mapped.
        progress(0.95, QStringLiteral("Reading the LibTorch engine's result"));
        LoadResult r = readTorchHelperResult(resultPath, path);
        QFile::remove(resultPath);
        if (r)
            progress(1.0, QStringLiteral("Done"));
        return r;
    } catch (const std::bad_alloc&) {
        return LoadResult::failure(QLatin1Char('\'') + fileLabel(path) +
                                   QStringLiteral("' could not be opened with the LibTorch engine: out of memory"));
    } catch (const std::exception& e) {
        return LoadResult::failure(QLatin1Char('\'') + fileLabel(path) +
                                   QStringLiteral("' could not be opened with the LibTorch engine: ") +
                                   QString::fromUtf8(e.what()));
    }
}

}  // namespace paramscope::detail
