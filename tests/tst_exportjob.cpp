// ExportJob, the non-interactive half of the export dialog: runs off the calling thread,
// reports progress and the result through signals, cancels, and reports errors.
#include "ui/exportdialog.h"
#include "formats/loader.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QLineEdit>
#include <QMessageBox>
#include <QFileInfo>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cstring>

using namespace paramscope;

namespace {

const QString kModel = QStringLiteral(PARAMSCOPE_FIXTURES "/export/export_model.pt");

class MemoryStorage final : public StorageProvider {
public:
    std::shared_ptr<std::vector<std::uint8_t>> bytes;
    Result<StorageBytes> storageBytes(int) const override
    {
        StorageBytes b;
        b.owner = bytes;
        b.data = bytes->data();
        b.size = bytes->size();
        return b;
    }
};

std::shared_ptr<const ModelIndex> bigIndex(std::int64_t numel)
{
    auto storage = std::make_shared<MemoryStorage>();
    storage->bytes = std::make_shared<std::vector<std::uint8_t>>(size_t(numel) * 4, std::uint8_t(1));
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("memory.pt");
    index->provider = storage;
    index->storages.push_back(StorageInfo{"data/0", DType::Float32, storage->bytes->size()});
    TensorEntry e;
    e.name = "big";
    e.dtype = DType::Float32;
    e.shape = {numel};
    e.storage = 0;
    index->entries.push_back(e);
    index->finalize();
    return index;
}

/// What a user does: type a full path into the file name box (selectFile() moves to
/// the folder asynchronously, so an immediate accept() could still see the old name).
void typeFileName(QFileDialog* fd, const QString& path)
{
    if (auto* edit = fd->findChild<QLineEdit*>(QStringLiteral("fileNameEdit")))
        edit->setText(path);
    else
        fd->selectFile(path);
}

QStringList entries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
}

}  // namespace

class TestExportJob : public QObject {
    Q_OBJECT

    std::shared_ptr<const ModelIndex> m_model;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);  // the dialog's QSettings stay out of the user's
        QSettings().clear();
        LoadOptions o;
        o.engine = LoaderEngine::LibTorch;
        auto r = loadModel(kModel, o);
        QVERIFY2(r, qPrintable(r.error()));
        m_model = r.value();
    }

    void exportsOffTheCallingThreadWithNotes()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("bf16.npy"));
        const int bf16 = m_model->findEntry("bf16");
        QVERIFY(bf16 >= 0);
        ExportJob job(m_model, {bf16}, out, ExportFormat::Npy);
        QSignalSpy started(&job, &ExportJob::started);
        QSignalSpy finished(&job, &ExportJob::finished);
        QSignalSpy progress(&job, &ExportJob::progress);
        job.start();
        QCOMPARE(started.count(), 1);
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.count(), 1);
        const auto args = finished.takeFirst();
        QVERIFY2(args.at(0).toBool(), qPrintable(args.at(1).toString()));
        QVERIFY(args.at(1).toString().contains(QLatin1String("bf16.npy")));
        const QStringList notes = args.at(2).toStringList();
        QCOMPARE(notes.size(), 1);
        QVERIFY(notes[0].contains(QLatin1String("bfloat16")));
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(0).toInt(), 1000);
        // 24 bfloat16 values widened to float32 after a 128-byte header.
        QCOMPARE(QFileInfo(out).size(), qint64(128 + 24 * 4));
        QVERIFY(!job.isRunning());
    }

    void reportsErrors()
    {
        QTemporaryDir dir;
        ExportJob job(m_model, {0}, dir.path(), ExportFormat::Npy);  // a folder, not a file
        QSignalSpy finished(&job, &ExportJob::finished);
        job.start();
        QVERIFY(finished.wait(60000));
        const auto args = finished.takeFirst();
        QVERIFY(!args.at(0).toBool());
        QVERIFY2(args.at(1).toString().contains(QLatin1String("is a folder")), qPrintable(args.at(1).toString()));
        QVERIFY(!job.cancelled());
        QVERIFY(entries(dir.path()).isEmpty());
    }

    void cancelLeavesNothing()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("big.safetensors"));
        ExportJob job(bigIndex(16 << 20), {0}, out, ExportFormat::Safetensors);
        QSignalSpy finished(&job, &ExportJob::finished);
        job.cancel();  // before the first chunk: deterministic
        job.start();
        QVERIFY(finished.wait(60000));
        const auto args = finished.takeFirst();
        QVERIFY(!args.at(0).toBool());
        QVERIFY(job.cancelled());
        QCOMPARE(args.at(1).toString(), exportCancelledMessage(out));
        QVERIFY(entries(dir.path()).isEmpty());
    }

    /// exportWithDialog end to end under the offscreen platform: a timer plays the user,
    /// typing a file name into the file dialog and closing the message boxes.
    void dialogExportsAndShowsNotes()
    {
        QTemporaryDir dir;
        QWidget window;
        window.show();
        const QString out = dir.filePath(QStringLiteral("from dialog.npy"));
        QStringList filters, boxes;
        QTimer user;
        user.setInterval(20);
        connect(&user, &QTimer::timeout, this, [&] {
            QWidget* modal = QApplication::activeModalWidget();
            if (auto* fd = qobject_cast<QFileDialog*>(modal)) {
                filters = fd->nameFilters();
                typeFileName(fd, out);
                static_cast<QDialog*>(fd)->accept();  // QFileDialog::accept, checks included
            } else if (auto* box = qobject_cast<QMessageBox*>(modal)) {
                boxes << box->text() + QLatin1Char('\n') + box->informativeText();
                box->accept();
            }
        });
        user.start();
        const int bf16 = m_model->findEntry("bf16");
        ExportJob* job = exportWithDialog(&window, m_model, {bf16}, QStringLiteral("bf16"));
        QVERIFY(job);
        const QString chosen = job->outPath();  // the job deletes itself once done
        QSignalSpy finished(job, &ExportJob::finished);
        QVERIFY(finished.wait(60000));
        QTRY_COMPARE(boxes.size(), 1);  // the notes, shown once the export finished
        QVERIFY2(boxes[0].contains(QLatin1String("bfloat16")), qPrintable(boxes[0]));
        QCOMPARE(filters.size(), 4);  // one tensor: every format
        QCOMPARE(chosen, out);
        QCOMPARE(QFileInfo(out).size(), qint64(128 + 24 * 4));

        // Several tensors: only .safetensors and .pt are offered, and a typed .npy is
        // refused with a message rather than failing later.
        boxes.clear();
        const QString bad = dir.filePath(QStringLiteral("two.npy"));
        disconnect(&user, nullptr, this, nullptr);
        connect(&user, &QTimer::timeout, this, [&] {
            QWidget* modal = QApplication::activeModalWidget();
            if (auto* fd = qobject_cast<QFileDialog*>(modal)) {
                filters = fd->nameFilters();
                typeFileName(fd, bad);
                static_cast<QDialog*>(fd)->accept();  // QFileDialog::accept, checks included
            } else if (auto* box = qobject_cast<QMessageBox*>(modal)) {
                boxes << box->text();
                box->accept();
            }
        });
        ExportJob* refused = exportWithDialog(&window, m_model, {0, 1}, QStringLiteral("two"));
        QVERIFY2(!refused, qPrintable(refused ? refused->outPath() : QString()));
        QCOMPARE(filters.size(), 2);
        QCOMPARE(boxes.size(), 1);
        QVERIFY2(boxes[0].contains(QLatin1String(".safetensors")), qPrintable(boxes[0]));
        QVERIFY(!QFileInfo::exists(bad));
    }

    void destroyedWhileRunning()
    {
        // The owner (a window) may go away mid-export: the job cancels and waits, the
        // worker never touches a dead object, and no temporary file remains.
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("big.npy"));
        {
            ExportJob job(bigIndex(32 << 20), {0}, out, ExportFormat::Npy);
            job.start();
        }
        const QStringList left = entries(dir.path());
        QVERIFY2(left.isEmpty() || left == QStringList{QStringLiteral("big.npy")}, qPrintable(left.join(u',')));
    }
};

QTEST_MAIN(TestExportJob)
#include "tst_exportjob.moc"
