#include "ui/windowlauncher.h"

#include "ui/mainwindow.h"

#include <QCommandLineParser>

#include <cstdio>
#include <memory>
#include <utility>

namespace paramscope {

namespace {

const QString kEngine = QStringLiteral("engine");

}  // namespace

void addWindowOptions(QCommandLineParser& parser)
{
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Model file(s) to open (.pt)."),
                                 QStringLiteral("[file...]"));
    parser.addOption({QStringLiteral("demo"), QStringLiteral("Open the bundled demo model.")});
    parser.addOption({kEngine, QStringLiteral("Loader: auto, native or libtorch."), QStringLiteral("engine")});
}

std::optional<WindowOptions> readWindowOptions(const QCommandLineParser& parser, const char* program)
{
    WindowOptions o;
    o.files = parser.positionalArguments();
    o.demo = parser.isSet(QStringLiteral("demo"));
    if (!parser.isSet(kEngine))
        return o;
    const QString e = parser.value(kEngine).toLower();
    for (LoaderEngine c : {LoaderEngine::Auto, LoaderEngine::Native, LoaderEngine::LibTorch})
        if (e == loaderEngineName(c))
            o.engine = c;
    if (!o.engine) {
        fprintf(stderr, "%s: unknown engine '%s' (auto, native, libtorch)\n", program,
                qPrintable(parser.value(kEngine)));
        return std::nullopt;
    }
    return o;
}

void openInSequence(MainWindow* window, const WindowOptions& options, std::function<void()> done)
{
    if (options.engine)
        window->setEngine(*options.engine);
    struct Sequence {
        QStringList queue;
        std::function<void()> done;
        QMetaObject::Connection loaded, failed;
    };
    auto seq = std::make_shared<Sequence>(Sequence{options.files, std::move(done), {}, {}});
    auto next = [window, seq] {
        if (!seq->queue.isEmpty()) {
            window->openFile(seq->queue.takeFirst());
            return;
        }
        // Later opens (the menu, a drop) are the user's: stop following them.
        QObject::disconnect(seq->loaded);
        QObject::disconnect(seq->failed);
        if (seq->done)
            std::exchange(seq->done, {})();
    };
    seq->loaded = QObject::connect(window, &MainWindow::modelLoaded, window, next);
    seq->failed = QObject::connect(window, &MainWindow::loadFailed, window, next);
    // Started from the event loop, so `done` may quit the application even with no file.
    const bool demo = options.demo;
    QMetaObject::invokeMethod(
        window,
        [window, demo, next] {
            if (demo)
                window->openDemoModel();
            else
                next();
        },
        Qt::QueuedConnection);
}

}  // namespace paramscope
