// paramscope: the window. Opens the file given (or the bundled demo with --demo); with
// no file, the start page; with two files, a comparison of them (A B). --print-loaded opens them, prints what loaded
// and quits, so a launch command can be checked without a display (QT_QPA_PLATFORM=offscreen).
#include "model/modelindex.h"
#include "ui/comparewindow.h"
#include "ui/mainwindow.h"
#include "ui/windowlauncher.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTemporaryDir>

#include <cstdio>

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
    parser.process(app);
    const std::optional<WindowOptions> options = readWindowOptions(parser, "paramscope");
    if (!options)
        return kExitUsage;

    QTemporaryDir settingsDir;  // --print-loaded leaves the user's settings alone
    if (parser.isSet(printOpt))
        MainWindow::setSettingsFile(settingsDir.filePath(QStringLiteral("settings.ini")));
    if (options->files.size() == 2 && !options->demo) {
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
    MainWindow w;
    w.enableExportDialog();
    w.show();
    std::function<void()> done;
    if (parser.isSet(printOpt))
        done = [&w] {
            const auto index = w.modelIndex();
            if (index)
                printf("loaded %s: %zu tensors\n", qPrintable(w.currentFile()), index->entries.size());
            if (!w.errorBannerText().isEmpty())
                fprintf(stderr, "%s\n", qPrintable(w.errorBannerText()));
            if (!index)
                fprintf(stderr, "no model open\n");
            QApplication::exit(index ? 0 : 1);
        };
    openInSequence(&w, *options, std::move(done));
    return app.exec();
}
