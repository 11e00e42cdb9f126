#include "ui/exportdialog.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSettings>

namespace paramscope {

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
                            const QString& suggestedBaseName, bool onlyMatches)
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
    const QString suggested = QDir(folder).filePath(sanitizedBaseName(suggestedBaseName) + QLatin1Char('.') +
                                                    exportFormatSuffix(formats.front()));

    QString selectedFilter = filters.front();
    QString title = count == 1 ? QObject::tr("Export Tensor") : QObject::tr("Export %n Tensors", nullptr, count);
    if (onlyMatches)
        title += QObject::tr(" (only the search's matches)");
    QString path =
        QFileDialog::getSaveFileName(parent, title, suggested, filters.join(QStringLiteral(";;")), &selectedFilter);
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
