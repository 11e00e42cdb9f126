// paramscope: the window. Opens the file given (or the bundled demo with --demo); with
// no file, the start page; with two files, a comparison of them (A B); with more (or with
// --windows), each file in a window of its own. --print-loaded opens them, prints what loaded
// and quits, so a launch command can be checked without a display (QT_QPA_PLATFORM=offscreen).
#include "model/modelindex.h"
#include "ui/comparewindow.h"
#include "ui/mainwindow.h"
#include "ui/windowlauncher.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace paramscope;

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ParamScope"));
    QApplication::setOrganizationName(QStringLiteral("ParamScope"));
    QApplication::setApplicationVersion(QStringLiteral(PARAMSCOPE_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Browse and search the parameters of PyTorch model files."));
    parser.addHelpOption();
    parser.addVersionOption();
    addWindowOptions(parser);
    const QCommandLineOption printOpt(
        QStringLiteral("print-loaded"),
        QStringLiteral("Open the files, print the model that is open (or the error) and quit: 0 when one is open."));
    parser.addOption(printOpt);
    const QCommandLineOption windowsOpt(
        QStringLiteral("windows"),
        QStringLiteral("Open each file in a window of its own, two files too (two are otherwise compared)."));
    parser.addOption(windowsOpt);
    parser.process(app);
    const std::optional<WindowOptions> options = readWindowOptions(parser, "paramscope");
    if (!options)
        return kExitUsage;

    QTemporaryDir settingsDir;  // --print-loaded leaves the user's settings alone
    if (parser.isSet(printOpt))
        MainWindow::setSettingsFile(settingsDir.filePath(QStringLiteral("settings.ini")));
    if (options->files.size() == 2 && !options->demo && !parser.isSet(windowsOpt)) {
        // paramscope A B: the two compared.
        auto* c = new CompareWindow;
        c->setAttribute(Qt::WA_DeleteOnClose);
        if (parser.isSet(printOpt)) {
            QObject::connect(c, &CompareWindow::comparisonFinished, c, [c](bool complete) {
                printf("compared %s\n", qPrintable(c->summaryText()));
                QApplication::exit(complete ? 0 : 1);
            });
            QObject::connect(c, &CompareWindow::loadFailed, c, [](const QString& message) {
                fprintf(stderr, "%s\n", qPrintable(message));
                QApplication::exit(1);
            });
        }
        c->show();
        c->openFiles(options->files.at(0), options->files.at(1));
        return app.exec();
    }
    // One window a file (the first also opens --demo); none given: one window, the start page.
    const bool print = parser.isSet(printOpt);
    QStringList files = options->files;
    const int windowCount = std::max(1, int(files.size()) + (options->demo && !files.isEmpty() ? 1 : 0));
    auto pending = std::make_shared<int>(windowCount);
    auto failures = std::make_shared<int>(0);
    for (int i = 0; i < windowCount; ++i) {
        auto* w = new MainWindow;
        w->setAttribute(Qt::WA_DeleteOnClose);
        w->enableExportDialog();
        if (i > 0)
            w->move(w->pos() + QPoint(32 * i, 32 * i));  // cascaded, each title in view
        w->show();
        WindowOptions one = *options;
        one.demo = options->demo && i == 0;
        one.files = one.demo || files.isEmpty() ? QStringList{} : QStringList{files.takeFirst()};
        std::function<void()> done;
        if (print)
            done = [w, pending, failures] {
                const auto index = w->modelIndex();
                if (index)
                    printf("loaded %s: %zu tensors\n", qPrintable(w->currentFile()), index->entries.size());
                if (!w->errorBannerText().isEmpty())
                    fprintf(stderr, "%s\n", qPrintable(w->errorBannerText()));
                if (!index) {
                    fprintf(stderr, "no model open\n");
                    ++*failures;
                }
                fflush(stdout);
                if (--*pending == 0)
                    QApplication::exit(*failures ? 1 : 0);
            };
        openInSequence(w, one, std::move(done));
    }
    return app.exec();
}
