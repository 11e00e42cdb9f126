#include "ui/exportdialog.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSettings>
#include <QtConcurrent>

namespace paramscope {

ExportJob::ExportJob(std::shared_ptr<const ModelIndex> index, std::vector<int> entries, QString outPath,
                     ExportFormat format, QObject* parent)
    : QObject(parent)
    , m_index(std::move(index))
    , m_entries(std::move(entries))
    , m_outPath(std::move(outPath))
    , m_format(format)
    , m_cancel(makeCancelToken())
    , m_permille(std::make_shared<std::atomic<int>>(0))
{
    // The worker only stores a number; the job's own thread turns it into signals, so no
    // signal is emitted per chunk and nothing touches this QObject from the worker.
    m_poll.setInterval(100);
    connect(&m_poll, &QTimer::timeout, this, [this] {
        const int p = m_permille->load();
        if (p != m_lastPermille) {
            m_lastPermille = p;
            Q_EMIT progress(p);
        }
    });
    connect(&m_watcher, &QFutureWatcher<ExportResult>::finished, this, &ExportJob::onFinished);
}

ExportJob::~ExportJob()
{
    if (m_watcher.isRunning()) {
        m_cancel->store(true);
        m_watcher.waitForFinished();
    }
}

void ExportJob::start()
{
    if (m_watcher.isRunning())
        return;
    ExportOptions o;
    o.cancel = m_cancel;
    auto permille = m_permille;
    o.progress = [permille](double f) { permille->store(int(f * 1000.0)); };
    // Copies: the worker must not reach into this object, which may go away first.
    m_watcher.setFuture(QtConcurrent::run([index = m_index, entries = m_entries, path = m_outPath, format = m_format, o] {
        return exportTensors(*index, entries, path, format, o);
    }));
    m_poll.start();
    Q_EMIT started();
}

void ExportJob::cancel() { m_cancel->store(true); }

void ExportJob::onFinished()
{
    m_poll.stop();
    const ExportResult r = m_watcher.result();
    if (!r) {
        Q_EMIT finished(false, r.error(), {});
        return;
    }
    Q_EMIT progress(1000);
    const QString summary = tr("Exported %n tensor(s) (%1) to %2", nullptr, r->tensors)
                                .arg(formatBytes(r->bytesWritten), QDir::toNativeSeparators(r->path));
    Q_EMIT finished(true, summary, r->notes);
}

namespace {

const char* kLastFolderKey = "export/lastFolder";

QString sanitizedBaseName(QString base)
{
    // Dotted tensor names make fine file names; path separators and the like do not.
    static const QString bad = QStringLiteral("/\\:*?\"<>|");
    for (QChar& c : base)
        if (bad.contains(c) || c.unicode() < 0x20)
            c = QLatin1Char('_');
    base = base.trimmed();
    return base.isEmpty() ? QStringLiteral("export") : base;
}

}  // namespace

ExportJob* exportWithDialog(QWidget* parent, std::shared_ptr<const ModelIndex> index, std::vector<int> entries,
                            const QString& suggestedBaseName)
{
    if (!index || entries.empty())
        return nullptr;
    const int count = int(entries.size());
    const std::vector<ExportFormat> formats = exportFormatsFor(count);
    QStringList filters;
    for (auto f : formats)
        filters << exportFormatFilter(f);

    QSettings settings;
    QString folder = settings.value(QLatin1String(kLastFolderKey)).toString();
    if (folder.isEmpty() || !QFileInfo(folder).isDir())
        folder = QFileInfo(index->filePath).absolutePath();
    if (folder.isEmpty() || !QFileInfo(folder).isDir())
        folder = QDir::homePath();
    const QString suggested =
        QDir(folder).filePath(sanitizedBaseName(suggestedBaseName) + QLatin1Char('.') + exportFormatSuffix(formats.front()));

    QString selectedFilter = filters.front();
    const QString title = count == 1 ? QObject::tr("Export Tensor") : QObject::tr("Export %n Tensors", nullptr, count);
    QString path = QFileDialog::getSaveFileName(parent, title, suggested, filters.join(QStringLiteral(";;")),
                                                &selectedFilter);
    if (path.isEmpty())
        return nullptr;

    // The typed extension wins when it names a format; otherwise the chosen filter's
    // extension is appended.
    ExportFormat format = formats[size_t(std::max<qsizetype>(0, filters.indexOf(selectedFilter)))];
    if (auto typed = exportFormatFromPath(path)) {
        format = *typed;
    } else {
        path += QLatin1Char('.') + exportFormatSuffix(format);
    }
    if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
        QMessageBox::warning(parent, QObject::tr("Export"),
                             QObject::tr("A .%1 file holds one tensor, but %2 are selected.\n\nChoose .safetensors or "
                                         ".pt to export them into one file.")
                                 .arg(exportFormatSuffix(format))
                                 .arg(count));
        return nullptr;
    }
    settings.setValue(QLatin1String(kLastFolderKey), QFileInfo(path).absolutePath());

    // Said up front as well as at the end: what the file will hold differently.
    QString label = QObject::tr("Exporting %n tensor(s) to %1…", nullptr, count).arg(QFileInfo(path).fileName());
    const QStringList notes = exportNotes(*index, entries, format);
    for (int i = 0; i < std::min<int>(notes.size(), 3); ++i)
        label += QStringLiteral("\n• ") + notes[i];
    auto* job = new ExportJob(std::move(index), std::move(entries), path, format, parent);
    auto* dialog = new QProgressDialog(label, QObject::tr("Cancel"), 0, 1000, parent);
    dialog->setWindowTitle(QObject::tr("Export"));
    dialog->setWindowModality(Qt::WindowModal);
    dialog->setMinimumDuration(300);
    dialog->setAutoClose(false);
    dialog->setAutoReset(false);
    dialog->setValue(0);
    QObject::connect(dialog, &QProgressDialog::canceled, job, &ExportJob::cancel);
    QObject::connect(job, &ExportJob::progress, dialog, &QProgressDialog::setValue);
    QPointer<QWidget> owner = parent;
    QObject::connect(job, &ExportJob::finished, job,
                     [job, dialog, owner](bool ok, const QString& message, const QStringList& notes) {
                         dialog->close();
                         dialog->deleteLater();
                         job->deleteLater();
                         if (!ok) {
                             if (!job->cancelled())
                                 QMessageBox::critical(owner, QObject::tr("Export Failed"), message);
                             return;
                         }
                         if (!notes.isEmpty()) {
                             QMessageBox box(QMessageBox::Information, QObject::tr("Export Finished"), message,
                                             QMessageBox::Ok, owner);
                             box.setInformativeText(QObject::tr("Note:") + QStringLiteral("\n• ") +
                                                    notes.join(QStringLiteral("\n• ")));
                             box.exec();
                         }
                     });
    job->start();
    return job;
}

}  // namespace paramscope
