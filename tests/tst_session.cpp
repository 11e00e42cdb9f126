// The QtCore session layer on its own: JobTracker (stale results dropped, the previous job
// cancelled), ModelSession (a PyTorch fixture against its JSON truth, a failing file, a
// superseded load), SearchController (debounce, the worker path, rejected queries).
#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/jobtracker.h"
#include "session/modelsession.h"
#include "session/searchcontroller.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QSemaphore>
#include <QSignalSpy>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <set>

using namespace paramscope;

namespace {

// A model of `count` names "blocks.<i>.weight" / "blocks.<i>.bias".
std::shared_ptr<const ModelIndex> makeModel(int count)
{
    auto idx = std::make_shared<ModelIndex>();
    for (int i = 0; int(idx->entries.size()) < count; ++i)
        for (const char* leaf : {"weight", "bias"}) {
            TensorEntry e;
            e.name = "blocks." + std::to_string(i) + "." + leaf;
            e.dtype = DType::Float32;
            idx->entries.push_back(e);
        }
    idx->finalize();
    return idx;
}

}  // namespace

class TestSession : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void jobTrackerHandsBackCurrentResult();
    void jobTrackerDropsStaleResultAndCancelsPrevious();
    void jobTrackerCancelDropsResultAndProgress();
    void modelSessionLoadsFixture();
    void modelSessionReportsFailureAndKeepsModel();
    void safetensorsOpenInNaturalOrder();
    void modelSessionNewerOpenWins();
    void modelSessionExtractsDemo();
    void searchControllerDebounces();
    void searchControllerRejectsInvalidQuery();
    void searchControllerWorkerMatchesSyncResult();
    void searchControllerDropsSearchOfReplacedModel();
    void searchControllerSortsAndFiltersOnWorker();
    void searchControllerSortDuringSearchKeepsQuery();
};

void TestSession::jobTrackerHandsBackCurrentResult()
{
    QObject context;
    JobTracker jobs(&context);
    int got = 0;
    jobs.start([](const JobHandle&) { return 42; }, [&](int v) { got = v; });
    QVERIFY(jobs.isRunning());
    QTRY_COMPARE(got, 42);
    QVERIFY(!jobs.isRunning());
}

void TestSession::jobTrackerDropsStaleResultAndCancelsPrevious()
{
    QObject context;
    JobTracker jobs(&context);
    QSemaphore release;
    std::atomic<bool> firstSawCancel{false};
    QStringList handedBack;
    jobs.start(
        [&](const JobHandle& h) {
            release.acquire();  // held until the second job has replaced this one
            firstSawCancel = h.cancelled();
            return QStringLiteral("first");
        },
        [&](const QString& v) { handedBack << v; });
    jobs.start([](const JobHandle&) { return QStringLiteral("second"); }, [&](const QString& v) { handedBack << v; });
    release.release();
    QTRY_COMPARE(handedBack, QStringList{QStringLiteral("second")});
    jobs.waitForFinished();
    QCoreApplication::processEvents();  // a stale hand-back, if any were queued, runs now
    QVERIFY(firstSawCancel);
    QCOMPARE(handedBack, QStringList{QStringLiteral("second")});
}

void TestSession::jobTrackerCancelDropsResultAndProgress()
{
    QObject context;
    JobTracker jobs(&context);
    QSemaphore release;
    int handedBack = 0, progress = 0;
    jobs.start(
        [&](const JobHandle& h) {
            jobs.post(h.id, [&] { ++progress; });  // before the cancel: runs
            release.acquire();
            jobs.post(h.id, [&] { ++progress; });  // after it: dropped
            return 1;
        },
        [&](int) { ++handedBack; });
    QTRY_COMPARE(progress, 1);
    jobs.cancel();
    QVERIFY(!jobs.isRunning());
    release.release();
    jobs.waitForFinished();
    QCoreApplication::processEvents();
    QCOMPARE(progress, 1);
    QCOMPARE(handedBack, 0);
}

// A safetensors file (keys sorted as text by its writer) shows layers 0, 1, 2, ..., 10, 11;
// a torch.save checkpoint keeps its own order.
void TestSession::safetensorsOpenInNaturalOrder()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("layers.safetensors"));
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON),
            {QStringLiteral("-c"),
             QStringLiteral("import json, struct, sys\n"
                            "names = sorted('layers.%d.w' % i for i in range(12))\n"
                            "h = {n: {'dtype': 'F32', 'shape': [1], 'data_offsets': [4 * k, 4 * k + 4]} for k, n in "
                            "enumerate(names)}\n"
                            "b = json.dumps(h).encode()\n"
                            "open(sys.argv[1], 'wb').write(struct.pack('<Q', len(b)) + b + bytes(48))\n"),
             path});
    QVERIFY(p.waitForFinished(30000) && p.exitCode() == 0);
    ModelSession session;
    QSignalSpy changed(&session, &ModelSession::modelChanged);
    session.open(path, LoaderEngine::Native);
    QVERIFY(changed.wait(30000));
    const ModelTree& tree = *session.tree();
    const TreeNode& layers = tree.node(tree.find("layers"));
    QStringList order;
    for (int c : layers.children)
        order << QString::fromUtf8(tree.node(c).name().data(), int(tree.node(c).name().size()));
    QCOMPARE(order,
             (QStringList{QStringLiteral("0"), QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3"),
                          QStringLiteral("4"), QStringLiteral("5"), QStringLiteral("6"), QStringLiteral("7"),
                          QStringLiteral("8"), QStringLiteral("9"), QStringLiteral("10"), QStringLiteral("11")}));
    // The file's own order was text order.
    QCOMPARE(session.index()->entries[2].name, std::string("layers.10.w"));
}

void TestSession::modelSessionLoadsFixture()
{
    ModelSession session;
    QSignalSpy started(&session, &ModelSession::loadStarted);
    QSignalSpy changed(&session, &ModelSession::modelChanged);
    const QString path = test::fixture(QStringLiteral("nested.pt"));
    session.open(path, LoaderEngine::Native);
    QCOMPARE(started.size(), 1);
    QVERIFY(session.isLoading());
    QVERIFY(changed.wait(30000));
    QVERIFY(!session.isLoading());
    QCOMPARE(session.generation(), quint64(1));
    QCOMPARE(session.currentFile(), QFileInfo(path).absoluteFilePath());
    QCOMPARE(session.displayName(), QStringLiteral("nested.pt"));
    // Against what PyTorch wrote next to the file.
    const QJsonArray truth = test::readJson(test::fixture(QStringLiteral("nested.json")))["entries"].toArray();
    QVERIFY(session.index());
    QCOMPARE(int(session.index()->entries.size()), int(truth.size()));
    std::set<std::string> names, expected;
    for (const auto& e : session.index()->entries)
        names.insert(e.name);
    for (const auto& v : truth)
        expected.insert(v.toObject()["name"].toString().toStdString());
    QCOMPARE(names, expected);
    QVERIFY(session.tree());
    for (const std::string& n : expected)
        QVERIFY2(session.tree()->find(n) > 0, n.c_str());
}

void TestSession::modelSessionReportsFailureAndKeepsModel()
{
    ModelSession session;
    QSignalSpy changed(&session, &ModelSession::modelChanged);
    session.open(test::fixture(QStringLiteral("nested.pt")), LoaderEngine::Native);
    QVERIFY(changed.wait(30000));
    const auto before = session.index();

    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("bad.pt"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is not a zip archive at all");
    f.close();
    QSignalSpy failed(&session, &ModelSession::loadFailed);
    session.open(bad, LoaderEngine::Native);
    QVERIFY(failed.wait(30000));
    QCOMPARE(failed.first().at(1).toString(), QStringLiteral("bad.pt"));
    // The loader's own kind survives the hand-back (whatever the readers call a non-zip).
    LoadOptions native;
    native.engine = LoaderEngine::Native;
    const LoadResult direct = loadModel(bad, native);
    QVERIFY(!direct.ok());
    QCOMPARE(failed.first().at(2).value<ErrorKind>(), direct.kind());
    QCOMPARE(failed.first().at(3).toString(), direct.error());
    QCOMPARE(changed.size(), 1);
    QCOMPARE(session.index(), before);  // the open model stays
    QCOMPARE(session.generation(), quint64(1));

    const QString missing = dir.filePath(QStringLiteral("missing.pt"));
    session.open(missing, LoaderEngine::Native);
    QVERIFY(failed.wait(30000));
    QCOMPARE(failed.last().at(2).value<ErrorKind>(), loadModel(missing, native).kind());
    QCOMPARE(session.index(), before);
}

void TestSession::modelSessionNewerOpenWins()
{
    ModelSession session;
    QSignalSpy changed(&session, &ModelSession::modelChanged);
    QSignalSpy failed(&session, &ModelSession::loadFailed);
    session.open(test::fixture(QStringLiteral("tied.pt")), LoaderEngine::Native);
    session.open(test::fixture(QStringLiteral("nested.pt")), LoaderEngine::Native);
    QVERIFY(changed.wait(30000));
    QTest::qWait(200);  // the first load's result, had it been handed back, would be here
    QCOMPARE(changed.size(), 1);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(session.displayName(), QStringLiteral("nested.pt"));

    QSignalSpy cancelled(&session, &ModelSession::loadCancelled);
    session.open(test::fixture(QStringLiteral("tied.pt")), LoaderEngine::Native);
    QVERIFY(session.cancel());
    QCOMPARE(cancelled.size(), 1);
    QVERIFY(!session.isLoading());
    QTest::qWait(200);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(session.displayName(), QStringLiteral("nested.pt"));
}

void TestSession::modelSessionExtractsDemo()
{
    const Result<QString> path = ModelSession::extractDemoModel();
    QVERIFY2(path.ok(), qPrintable(path.error()));
    QVERIFY(ModelSession::isDemoPath(path.value()));
    QVERIFY(!ModelSession::isDemoPath(test::fixture(QStringLiteral("nested.pt"))));
    QFile extracted(path.value()), original(QStringLiteral(PARAMSCOPE_SOURCE_DIR "/resources/demo_model.pt"));
    QVERIFY(extracted.open(QIODevice::ReadOnly));
    QVERIFY(original.open(QIODevice::ReadOnly));
    QVERIFY(extracted.readAll() == original.readAll());
}

void TestSession::searchControllerDebounces()
{
    SearchController search;
    search.setDebounceInterval(50);
    auto index = makeModel(100);
    search.setModel(index, std::make_shared<const ModelTree>(ModelTree::build(*index)));
    QSignalSpy ready(&search, &SearchController::viewReady);
    // Typing "b", "bi", "bia", "bias": one search, for the last text.
    for (const char* text : {"b", "bi", "bia", "bias"})
        search.setQuery({MatchMode::Contains, QString::fromLatin1(text), true});
    QVERIFY(search.isPending());
    QCOMPARE(ready.size(), 0);  // nothing before the pause
    QVERIFY(ready.wait(5000));
    QTest::qWait(150);
    QCOMPARE(ready.size(), 1);
    const auto m = ready.first().at(0).value<std::shared_ptr<const SearchMatches>>();
    QVERIFY(m);
    QCOMPARE(m->matcher.query().pattern, QStringLiteral("bias"));
    QCOMPARE(int(m->entries.size()), 50);
    for (int e : m->entries)
        QVERIFY(index->entries[size_t(e)].name.find(".bias") != std::string::npos);

    // flush() runs a pending search at once; without one it does nothing.
    search.setQuery({MatchMode::Contains, QStringLiteral("weight"), true});
    search.flush();
    QCOMPARE(ready.size(), 2);
    QVERIFY(!search.isPending());
    search.flush();
    QCOMPARE(ready.size(), 2);
}

void TestSession::searchControllerRejectsInvalidQuery()
{
    SearchController search;
    auto index = makeModel(10);
    search.setModel(index, std::make_shared<const ModelTree>(ModelTree::build(*index)));
    QSignalSpy ready(&search, &SearchController::viewReady);
    QSignalSpy rejected(&search, &SearchController::rejected);
    search.setQuery({MatchMode::Regex, QStringLiteral("blocks.(1"), true});
    search.run();
    QCOMPARE(rejected.size(), 1);
    QCOMPARE(ready.size(), 0);
    // An empty query filters nothing: a null match set.
    search.setQuery({MatchMode::Regex, QString(), true});
    search.run();
    QCOMPARE(ready.size(), 1);
    QVERIFY(!ready.first().at(0).value<std::shared_ptr<const SearchMatches>>());
}

void TestSession::searchControllerWorkerMatchesSyncResult()
{
    SearchController search;
    auto index = makeModel(2000);
    auto tree = std::make_shared<const ModelTree>(ModelTree::build(*index));
    search.setModel(index, tree);
    search.setAsyncThreshold(1000);
    QSignalSpy accepted(&search, &SearchController::accepted);
    QSignalSpy ready(&search, &SearchController::viewReady);
    const SearchQuery q{MatchMode::Wildcard, QStringLiteral("blocks.1?.weight"), true};
    search.setQuery(q);
    search.run();
    QCOMPARE(accepted.size(), 1);
    QCOMPARE(accepted.first().at(0).toBool(), true);  // on the worker
    QCOMPARE(ready.size(), 0);                        // not yet
    QVERIFY(ready.wait(10000));
    const auto m = ready.first().at(0).value<std::shared_ptr<const SearchMatches>>();
    QVERIFY(m);
    std::vector<int> expected;  // blocks.10 .. blocks.19
    for (int i = 10; i < 20; ++i)
        expected.push_back(2 * i);
    QCOMPARE(m->entries, expected);
    // Every module on the way to a match opens, parents first.
    const auto layout = ready.first().at(1).value<std::shared_ptr<const TreeLayout>>();
    QVERIFY(layout && layout->isFiltered());
    const std::vector<int> open = SearchController::nodesToOpen(*layout);
    QCOMPARE(int(open.size()), 11);  // "blocks" and its ten children
    QCOMPARE(open.front(), tree->find("blocks"));
}

void TestSession::searchControllerDropsSearchOfReplacedModel()
{
    SearchController search;
    auto index = makeModel(20000);
    search.setModel(index, std::make_shared<const ModelTree>(ModelTree::build(*index)));
    search.setAsyncThreshold(1);
    QSignalSpy ready(&search, &SearchController::viewReady);
    search.setQuery({MatchMode::Regex, QStringLiteral("blocks\\.\\d+\\.bias"), true});
    search.run();
    auto other = makeModel(4);
    search.setModel(other, std::make_shared<const ModelTree>(ModelTree::build(*other)));
    QTest::qWait(1000);
    QCOMPARE(ready.size(), 0);  // the old model's matches never arrive
    search.run();
    QVERIFY(ready.wait(5000));
    QCOMPARE(ready.size(), 1);
    QCOMPARE(int(ready.first().at(0).value<std::shared_ptr<const SearchMatches>>()->entries.size()), 2);
}

// Every visible node of `layout` in depth-first display order, by full name.
static QStringList shownNames(const ModelTree& tree, const TreeLayout* layout)
{
    QStringList out;
    std::vector<int> stack{ModelTree::root()};
    while (!stack.empty()) {
        const int n = stack.back();
        stack.pop_back();
        if (n != ModelTree::root())
            out << QString::fromStdString(std::string(tree.node(n).fullName));
        if (!layout) {  // the model's order
            const auto& ch = tree.node(n).children;
            stack.insert(stack.end(), ch.rbegin(), ch.rend());
            continue;
        }
        for (int r = layout->childCount(n) - 1; r >= 0; --r)
            stack.push_back(layout->child(n, r));
    }
    return out;
}

void TestSession::searchControllerSortsAndFiltersOnWorker()
{
    SearchController search;
    auto index = makeModel(30);  // blocks.0 .. blocks.14, each weight and bias
    auto tree = std::make_shared<const ModelTree>(ModelTree::build(*index));
    search.setModel(index, tree);
    search.setAsyncThreshold(1);
    QSignalSpy ready(&search, &SearchController::viewReady);
    using Layout = std::shared_ptr<const TreeLayout>;

    // Sorting by name, descending: on the worker, natural order reversed (14 before 2).
    search.setSort({TreeSort::Field::Name, true});
    QCOMPARE(ready.size(), 0);
    QVERIFY(ready.wait(5000));
    Layout sorted = ready.last().at(1).value<Layout>();
    QVERIFY(sorted && !sorted->isFiltered());
    QStringList expected{"blocks"};
    for (int i = 14; i >= 0; --i)
        expected << QStringLiteral("blocks.%1").arg(i) << QStringLiteral("blocks.%1.weight").arg(i)
                 << QStringLiteral("blocks.%1.bias").arg(i);
    QCOMPARE(shownNames(*tree, sorted.get()), expected);
    QVERIFY(!ready.last().at(0).value<std::shared_ptr<const SearchMatches>>());

    // A search keeps that order and shows the matches and their ancestors only.
    search.setQuery({MatchMode::Regex, QStringLiteral(R"(^blocks\.1\d?\.bias$)"), true});
    search.run();
    QVERIFY(ready.wait(5000));
    const auto matches = ready.last().at(0).value<std::shared_ptr<const SearchMatches>>();
    Layout filtered = ready.last().at(1).value<Layout>();
    QVERIFY(matches && filtered && filtered->isFiltered());
    expected = QStringList{"blocks"};
    for (int i : {14, 13, 12, 11, 10, 1})
        expected << QStringLiteral("blocks.%1").arg(i) << QStringLiteral("blocks.%1.bias").arg(i);
    QCOMPARE(shownNames(*tree, filtered.get()), expected);
    // The same as the layout computed here, synchronously.
    QCOMPARE(
        shownNames(
            *tree,
            TreeLayout::filter(TreeLayout::build(*index, *tree, {TreeSort::Field::Name, true}), matches.get()).get()),
        expected);

    // Back to the model's order: the same matches, now in file order.
    search.setSort(TreeSort());
    QVERIFY(ready.wait(5000));
    QCOMPARE(ready.last().at(0).value<std::shared_ptr<const SearchMatches>>(), matches);
    expected = QStringList{"blocks"};
    for (int i : {1, 10, 11, 12, 13, 14})
        expected << QStringLiteral("blocks.%1").arg(i) << QStringLiteral("blocks.%1.bias").arg(i);
    QCOMPARE(shownNames(*tree, ready.last().at(1).value<Layout>().get()), expected);

    // Sorted again, then the search cleared: the whole sorted layout is already known, so it
    // comes back at once (no worker), and in the model's order a clear needs no layout at all.
    search.setSort({TreeSort::Field::Name, true});
    QVERIFY(ready.wait(5000));
    const int before = int(ready.size());
    search.setQuery({MatchMode::Regex, QString(), true});
    search.run();
    QCOMPARE(int(ready.size()), before + 1);
    QVERIFY(!search.isSearching());
    QCOMPARE(shownNames(*tree, ready.last().at(1).value<Layout>().get()),
             shownNames(*tree, TreeLayout::build(*index, *tree, {TreeSort::Field::Name, true}).get()));
    search.setSort(TreeSort());
    QVERIFY(ready.wait(5000));
    QVERIFY(!ready.last().at(1).value<Layout>());
}

// A sort asked for while a search runs on the worker runs that search again in the new order
// (it must not re-sort the previous matches and drop the query); an invalid pattern typed
// meanwhile drops the search, so its matches never land after the error.
void TestSession::searchControllerSortDuringSearchKeepsQuery()
{
    SearchController search;
    auto index = makeModel(20000);
    auto tree = std::make_shared<const ModelTree>(ModelTree::build(*index));
    search.setModel(index, tree);
    search.setAsyncThreshold(1);
    QSignalSpy ready(&search, &SearchController::viewReady);
    search.setQuery({MatchMode::Regex, QStringLiteral(R"(^blocks\.1\d\.bias$)"), true});
    search.run();
    QVERIFY(search.isSearching());
    search.setSort({TreeSort::Field::Name, true});
    QVERIFY(ready.wait(10000));
    QTest::qWait(200);
    QCOMPARE(ready.size(), 1);
    const auto m = ready.last().at(0).value<std::shared_ptr<const SearchMatches>>();
    QVERIFY(m);
    QCOMPARE(m->matcher.query().pattern, QStringLiteral(R"(^blocks\.1\d\.bias$)"));
    QCOMPARE(int(m->entries.size()), 10);
    const auto layout = ready.last().at(1).value<std::shared_ptr<const TreeLayout>>();
    QVERIFY(layout && layout->isFiltered());
    QCOMPARE(layout->sort(), (TreeSort{TreeSort::Field::Name, true}));
    const int blocks = tree->find("blocks");
    QCOMPARE(QString::fromStdString(std::string(tree->node(layout->child(blocks, 0)).name())), QStringLiteral("19"));

    QSignalSpy rejected(&search, &SearchController::rejected);
    search.setQuery({MatchMode::Regex, QStringLiteral("blocks"), true});
    search.run();
    search.setQuery({MatchMode::Regex, QStringLiteral("blocks.(1"), true});
    search.run();
    QCOMPARE(rejected.size(), 1);
    QTest::qWait(1000);
    QCOMPARE(ready.size(), 1);  // the search for "blocks" never lands
}

QTEST_GUILESS_MAIN(TestSession)
#include "tst_session.moc"
