#include "session/modelsession.h"

#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/modeltree.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

#include <optional>

namespace paramscope {

namespace {

const char* const kDemoResource = ":/paramscope/demo_model.pt";

QString demoPrefix()
{
    return QStandardPaths::writableLocation(QStandardPaths::TempLocation) + QStringLiteral("/paramscope-demo-");
}

}  // namespace

struct ModelSession::Outcome {
    std::optional<LoadResult> result;
    std::shared_ptr<const ModelTree> tree;
};

ModelSession::ModelSession(QObject* parent) : QObject(parent) {}

ModelSession::~ModelSession() = default;

void ModelSession::open(const QString& path, LoaderEngine engine)
{
    if (path.isEmpty())
        return;
    const QString absolute = QFileInfo(path).absoluteFilePath();
    const QString displayName = QFileInfo(path).fileName();
    m_jobs.start(
        [this, absolute, engine](const JobHandle& job) {
            LoadOptions options;
            options.engine = engine;
            options.cancel = job.cancel;
            // Progress comes from the worker: post it, at most about once per percent.
            double last = -1.0;
            options.progress = [this, &last, id = job.id](double fraction, const QString& stage) {
                if (fraction - last < 0.01 && fraction < 1.0)
                    return;
                last = fraction;
                m_jobs.post(id, [this, fraction, stage] { Q_EMIT loadProgress(fraction, stage); });
            };
            Outcome out;
            out.result = loadModel(absolute, options);
            // The tree is built here too: 100k names take a while, and the GUI must not wait.
            if (out.result->ok() && !job.cancelled())
                out.tree = ModelSession::buildTree(out.result->value());
            return out;
        },
        [this, absolute, displayName](const Outcome& out) { onLoaded(absolute, displayName, out); });
    m_loadingPath = absolute;
    m_loadTimer.start();
    Q_EMIT loadStarted(absolute, displayName);
}

bool ModelSession::cancel()
{
    if (!m_jobs.isRunning())
        return false;
    m_jobs.cancel();
    Q_EMIT loadCancelled(m_loadingPath);
    return true;
}

void ModelSession::onLoaded(const QString& path, const QString& displayName, const Outcome& outcome)
{
    const LoadResult& r = *outcome.result;
    if (!r.ok()) {
        Q_EMIT loadFailed(path, displayName, r.kind(), r.error());
        return;
    }
    m_lastLoadMs = m_loadTimer.elapsed();
    m_index = r.value();
    m_tree = outcome.tree;
    m_currentFile = path;
    m_displayName = displayName;
    ++m_generation;
    Q_EMIT modelChanged(path);
}

void ModelSession::setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree,
                            const QString& displayName)
{
    if (!index)
        return;
    if (!tree)
        tree = buildTree(index);
    m_index = std::move(index);
    m_tree = std::move(tree);
    m_currentFile.clear();
    m_displayName = displayName;
    ++m_generation;
    Q_EMIT modelChanged(QString());
}

Result<QString> ModelSession::extractDemoModel()
{
    // The demo model is compiled into the binary, so it works from any build folder; the
    // loaders read files, so it is copied out once per user into the temp folder.
    const QString dir = demoPrefix() + qEnvironmentVariable("USER", QStringLiteral("user"));
    QDir().mkpath(dir);
    const QString path = dir + QStringLiteral("/demo_model.pt");
    QFile res(QString::fromLatin1(kDemoResource));
    if (!res.open(QIODevice::ReadOnly))
        return Result<QString>::failure(
            ErrorKind::Io,
            tr("The demo model is missing from this build (resource %1).").arg(QString::fromLatin1(kDemoResource)));
    if (QFileInfo(path).size() != res.size()) {
        QSaveFile out(path);
        if (!out.open(QIODevice::WriteOnly) || out.write(res.readAll()) != res.size() || !out.commit())
            return Result<QString>::failure(
                ErrorKind::Io, tr("Could not write the demo model to '%1': %2").arg(path, out.errorString()));
    }
    return path;
}

bool ModelSession::isDemoPath(const QString& path)
{
    return path.startsWith(demoPrefix());
}

std::shared_ptr<const ModelTree> ModelSession::buildTree(const std::shared_ptr<const ModelIndex>& shared)
{
    const ModelIndex& index = *shared;
    ModelTree tree = ModelTree::build(shared);  // views the index's names: no second copy
    // A safetensors header is a JSON object: its order is the writer's (sorted text, so
    // layers.10 before layers.2), not the model's. Show such files in natural order.
    if (index.format == ModelFormat::Safetensors || index.format == ModelFormat::ShardedSafetensors)
        tree.sortNatural(true);
    return std::make_shared<const ModelTree>(std::move(tree));
}

}  // namespace paramscope
