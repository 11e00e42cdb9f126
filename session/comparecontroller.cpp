#include "session/comparecontroller.h"

#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/modeltree.h"

namespace paramscope {

/// What the aligning worker hands back: the models (when it loaded them), the alignment,
/// the merged model and its tree, or why it could not.
struct CompareController::Aligned {
    std::shared_ptr<const ModelIndex> a, b, merged;
    std::shared_ptr<const ModelTree> tree;
    Alignment alignment;
    QString error;
};

CompareController::CompareController(QObject* parent) : QObject(parent) {}

CompareController::~CompareController() = default;

void CompareController::open(const QString& fileA, const QString& fileB, LoaderEngine engine)
{
    m_loading = true;
    const AlignOptions o = m_alignOptions;
    m_jobs.start(
        [fileA, fileB, engine, o](const JobHandle& job) {
            auto out = std::make_shared<Aligned>();
            LoadOptions lo;
            lo.engine = engine;
            lo.cancel = job.cancel;
            auto a = loadModel(fileA, lo);
            if (!a) {
                out->error = a.error();
                return out;
            }
            auto b = loadModel(fileB, lo);
            if (!b) {
                out->error = b.error();
                return out;
            }
            auto aligned = alignBoth(a.value(), b.value(), o);
            return aligned;
        },
        [this](std::shared_ptr<Aligned> aligned) { onLoaded(aligned); });
}

void CompareController::openAgainst(std::shared_ptr<const ModelIndex> a, const QString& fileB, LoaderEngine engine)
{
    m_loading = true;
    const AlignOptions o = m_alignOptions;
    m_jobs.start(
        [a, fileB, engine, o](const JobHandle& job) {
            LoadOptions lo;
            lo.engine = engine;
            lo.cancel = job.cancel;
            auto b = loadModel(fileB, lo);
            if (!b) {
                auto out = std::make_shared<Aligned>();
                out->error = b.error();
                return out;
            }
            return alignBoth(a, b.value(), o);
        },
        [this](std::shared_ptr<Aligned> aligned) { onLoaded(aligned); });
}

void CompareController::setModels(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b)
{
    m_a = std::move(a);
    m_b = std::move(b);
    align();
}

void CompareController::setAlignOptions(const AlignOptions& options)
{
    m_alignOptions = options;
    if (m_a && m_b)
        align();
}

void CompareController::setTolerance(double atol, double rtol)
{
    m_atol = atol;
    m_rtol = rtol;
    if (m_table)
        compare();
}

void CompareController::cancel()
{
    if (!m_jobs.isRunning())
        return;
    m_jobs.cancel();
    m_loading = false;
    Q_EMIT finished(false);
}

std::shared_ptr<CompareController::Aligned> CompareController::alignBoth(std::shared_ptr<const ModelIndex> a,
                                                                         std::shared_ptr<const ModelIndex> b,
                                                                         const AlignOptions& o)
{
    auto out = std::make_shared<CompareController::Aligned>();
    out->alignment = alignModels(*a, *b, o);
    out->merged = mergedIndex(*a, *b, out->alignment);
    out->tree = std::make_shared<const ModelTree>(ModelTree::build(out->merged));
    out->a = std::move(a);
    out->b = std::move(b);
    return out;
}

void CompareController::align()
{
    const bool wasRunning = m_jobs.isRunning();
    auto a = m_a, b = m_b;
    const AlignOptions o = m_alignOptions;
    m_jobs.start([a, b, o](const JobHandle&) { return alignBoth(a, b, o); },
                 [this](std::shared_ptr<Aligned> aligned) { applyAligned(aligned); });
    if (wasRunning)
        Q_EMIT finished(false);
}

void CompareController::onLoaded(const std::shared_ptr<Aligned>& aligned)
{
    m_loading = false;
    if (!aligned->error.isEmpty()) {
        Q_EMIT loadFailed(aligned->error);
        return;
    }
    applyAligned(aligned);
}

void CompareController::applyAligned(const std::shared_ptr<Aligned>& aligned)
{
    m_a = aligned->a;
    m_b = aligned->b;
    m_alignment = std::move(aligned->alignment);
    m_merged = aligned->merged;
    m_tree = aligned->tree;
    compare();  // a new table and modelsChanged
}

void CompareController::compare()
{
    if (!m_a || !m_b || !m_merged)
        return;
    const bool wasRunning = m_jobs.isRunning();
    m_jobs.cancel();
    if (wasRunning)
        Q_EMIT finished(false);
    m_table = std::make_unique<DiffTable>(m_merged, m_tree);
    m_progress = {};
    Q_EMIT modelsChanged();
    Q_EMIT started();
    auto a = m_a, b = m_b;
    const Alignment al = m_alignment;
    DiffOptions base;
    base.atol = m_atol;
    base.rtol = m_rtol;
    base.threads = m_threads;
    base.batchIntervalMs = 100;
    m_jobs.start(
        [this, a, b, al, base](const JobHandle& job) {
            DiffOptions o = base;
            o.cancel = job.cancel;
            o.onBatch = [this, id = job.id](std::vector<std::pair<int, PairDiff>>&& batch, const DiffProgress& p) {
                auto shared = std::make_shared<std::vector<std::pair<int, PairDiff>>>(std::move(batch));
                m_jobs.post(id, [this, shared, p] {
                    if (!m_table)
                        return;
                    for (const auto& [pair, d] : *shared)
                        m_table->add(pair, d);
                    m_progress = p;
                    Q_EMIT pairsCompared(int(shared->size()));
                    Q_EMIT progressChanged(p);
                });
            };
            auto result = std::make_shared<DiffResult>(diffModels(*a, *b, al, o));
            return result;
        },
        [this](std::shared_ptr<DiffResult> result) {
            // Every batch was posted before this (same queue): the table is whole unless cancelled.
            for (size_t i = 0; i < result->pairs.size(); ++i)
                m_table->add(int(i), result->pairs[i]);
            m_table->setComplete(!result->cancelled);
            m_progress = result->progress;
            Q_EMIT progressChanged(m_progress);
            Q_EMIT finished(!result->cancelled);
        });
}

}  // namespace paramscope
