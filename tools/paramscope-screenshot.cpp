// paramscope-screenshot: renders the window to a PNG and quits, for README pictures and
// for comparing the window before and after a change. Opens the files (or the demo) as
// paramscope does, then applies an optional search and selection, lets the layout settle
// and grabs the window. Settings go to a temporary file, so the user's are not touched.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/mainwindow.h"
#include "ui/metadataview.h"
#include "ui/modeltreeview.h"
#include "ui/windowlauncher.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QLineEdit>
#include <QPixmap>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace paramscope;

namespace {

struct ScreenshotPlan {
    QString out;
    QString search;
    QString mode;
    QString select;
    QString tab;  // "metadata": the Metadata tab in front
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
    if (plan.tab.compare(QLatin1String("metadata"), Qt::CaseInsensitive) == 0)
        w->browserTabs()->setCurrentWidget(w->metadataView());
    else if (plan.tab.compare(QLatin1String("tensors"), Qt::CaseInsensitive) == 0)
        w->browserTabs()->setCurrentWidget(w->treeView());
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

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Render the ParamScope window to a PNG and quit."));
    parser.addHelpOption();
    addWindowOptions(parser);
    const QCommandLineOption shotOpt(QStringLiteral("screenshot"), QStringLiteral("The PNG to write (required)."),
                                     QStringLiteral("png"));
    const QCommandLineOption searchOpt(QStringLiteral("search"), QStringLiteral("Search text."),
                                       QStringLiteral("text"));
    const QCommandLineOption modeOpt(QStringLiteral("mode"), QStringLiteral("Contains, Exact, Wildcard or Regex."),
                                     QStringLiteral("mode"));
    const QCommandLineOption selectOpt(QStringLiteral("select"), QStringLiteral("Dotted name to select."),
                                       QStringLiteral("name"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"), QStringLiteral("Window size WxH (default 1280x800)."),
                                     QStringLiteral("WxH"));
    const QCommandLineOption tabOpt(QStringLiteral("tab"), QStringLiteral("The tab in front: tensors or metadata."),
                                    QStringLiteral("tab"));
    parser.addOptions({shotOpt, searchOpt, modeOpt, selectOpt, sizeOpt, tabOpt});
    parser.process(app);
    const std::optional<WindowOptions> options = readWindowOptions(parser, "paramscope-screenshot");
    if (!options)
        return kExitUsage;
    const ScreenshotPlan plan{parser.value(shotOpt), parser.value(searchOpt), parser.value(modeOpt),
                              parser.value(selectOpt), parser.value(tabOpt)};
    if (plan.out.isEmpty()) {
        fprintf(stderr, "paramscope-screenshot: --screenshot PNG is required\n");
        return kExitUsage;
    }

    QTemporaryDir settingsDir;
    MainWindow::setSettingsFile(settingsDir.filePath(QStringLiteral("settings.ini")));
    MainWindow w;
    int width = 1280, height = 800;
    const QStringList wh = parser.value(sizeOpt).split(QLatin1Char('x'));
    if (wh.size() == 2) {
        width = wh[0].toInt();
        height = wh[1].toInt();
    }
    w.resize(width, height);
    w.show();
    openInSequence(&w, *options, [&w, plan] { takeScreenshot(&w, plan); });
    return app.exec();
}
