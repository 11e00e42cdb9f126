#include "ui/mainwindow.h"
#include "model/modelindex.h"
#include "model/modeltree.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QLineEdit>
#include <QComboBox>
#include <QTemporaryDir>
#include <QTimer>

#include <memory>

using paramscope::MainWindow;

namespace {

// --screenshot: after every file has been opened (or failed), apply the optional search
// and selection, let the layout settle, grab the window and quit.
struct ScreenshotPlan {
    QString out;
    QString search;
    QString mode;
    QString select;
    QStringList files;
    bool demo = false;
};

void grabAndQuit(MainWindow* w, const ScreenshotPlan& plan)
{
    if (!plan.select.isEmpty() && w->modelIndex()) {
        const int node = w->modelTree()->find(plan.select.toStdString());
        if (node >= 0)
            w->selectNode(node);
        else
            fprintf(stderr, "--select: no tensor or module named %s\n", qPrintable(plan.select));
    } else if (!plan.search.isEmpty()) {
        w->findNext();
    }
    // Let the layout settle (column widths, elision) before grabbing.
    QTimer::singleShot(400, w, [w, plan] {
        const QPixmap pm = w->grab();
        const bool ok = pm.save(plan.out);
        fprintf(ok ? stdout : stderr, ok ? "wrote %s (%dx%d)\n" : "could not write %s\n", qPrintable(plan.out),
                pm.width(), pm.height());
        QApplication::exit(ok ? 0 : 1);
    });
}

void takeScreenshot(MainWindow* w, const ScreenshotPlan& plan)
{
    if (!plan.mode.isEmpty()) {
        const int i = w->searchModeBox()->findText(plan.mode, Qt::MatchFixedString);
        if (i >= 0)
            w->searchModeBox()->setCurrentIndex(i);
    }
    if (plan.search.isEmpty() || !w->modelIndex()) {
        grabAndQuit(w, plan);
        return;
    }
    // Large models search on a worker: wait until the result is in the tree.
    auto conn = std::make_shared<QMetaObject::Connection>();
    *conn = QObject::connect(w, &MainWindow::searchApplied, w, [w, plan, conn] {
        QObject::disconnect(*conn);
        grabAndQuit(w, plan);
    });
    w->searchEdit()->setText(plan.search);
    w->flushSearch();
}

}  // namespace

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
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Model file(s) to open (.pt)."),
                                 QStringLiteral("[file...]"));
    const QCommandLineOption demoOpt(QStringLiteral("demo"), QStringLiteral("Open the bundled demo model."));
    const QCommandLineOption engineOpt(QStringLiteral("engine"), QStringLiteral("Loader: auto, native or libtorch."),
                                       QStringLiteral("engine"));
    const QCommandLineOption shotOpt(
        QStringLiteral("screenshot"),
        QStringLiteral("Open the files, render the window to <png> and quit (settings are not touched)."),
        QStringLiteral("png"));
    const QCommandLineOption searchOpt(QStringLiteral("search"), QStringLiteral("With --screenshot: search text."),
                                       QStringLiteral("text"));
    const QCommandLineOption modeOpt(QStringLiteral("mode"),
                                     QStringLiteral("With --screenshot: Contains, Exact, Wildcard or Regex."),
                                     QStringLiteral("mode"));
    const QCommandLineOption selectOpt(
        QStringLiteral("select"), QStringLiteral("With --screenshot: dotted name to select."), QStringLiteral("name"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"),
                                     QStringLiteral("With --screenshot: window size WxH (default 1280x800)."),
                                     QStringLiteral("WxH"));
    parser.addOptions({demoOpt, engineOpt, shotOpt, searchOpt, modeOpt, selectOpt, sizeOpt});
    parser.process(app);

    ScreenshotPlan plan;
    plan.out = parser.value(shotOpt);
    plan.search = parser.value(searchOpt);
    plan.mode = parser.value(modeOpt);
    plan.select = parser.value(selectOpt);
    plan.demo = parser.isSet(demoOpt);
    plan.files = parser.positionalArguments();

    std::unique_ptr<QTemporaryDir> settingsDir;
    if (!plan.out.isEmpty()) {
        settingsDir = std::make_unique<QTemporaryDir>();
        MainWindow::setSettingsFile(settingsDir->filePath(QStringLiteral("settings.ini")));
    }

    MainWindow w;
    w.enableExportDialog();
    if (parser.isSet(engineOpt)) {
        const QString e = parser.value(engineOpt).toLower();
        if (e == QLatin1String("native"))
            w.setEngine(paramscope::LoaderEngine::Native);
        else if (e == QLatin1String("libtorch"))
            w.setEngine(paramscope::LoaderEngine::LibTorch);
        else
            w.setEngine(paramscope::LoaderEngine::Auto);
    }
    if (!plan.out.isEmpty()) {
        int width = 1280, height = 800;
        const QStringList wh = parser.value(sizeOpt).split(QLatin1Char('x'));
        if (wh.size() == 2) {
            width = wh[0].toInt();
            height = wh[1].toInt();
        }
        w.resize(width, height);
    }
    w.show();

    // Files open one after the other, so a later bad file shows its error over the
    // model that stays open.
    auto queue = std::make_shared<QStringList>(plan.files);
    auto openNext = std::make_shared<std::function<void()>>();
    *openNext = [&w, queue, plan, openNext] {
        if (!queue->isEmpty()) {
            w.openFile(queue->takeFirst());
        } else if (!plan.out.isEmpty()) {
            takeScreenshot(&w, plan);
        }
    };
    if (!plan.out.isEmpty() || queue->size() > 1) {
        QObject::connect(&w, &MainWindow::modelLoaded, &w, [openNext] { (*openNext)(); });
        QObject::connect(&w, &MainWindow::loadFailed, &w, [openNext] { (*openNext)(); });
    }
    if (plan.demo)
        w.openDemoModel();
    else
        (*openNext)();
    const int rc = app.exec();
    // Break the self-reference of the queue callback.
    *openNext = nullptr;
    return rc;
}
