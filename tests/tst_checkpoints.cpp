// Training checkpoints as users have them (tests/fixtures/make_checkpoint_fixtures.py): a
// whole pickled model whose classes are missing, YOLO-style weights (a half-precision model in
// a dict, its EMA, an SGD state), a training loop's dict of state_dicts with argparse
// arguments and a config dataclass, a scheduler's state, bare arguments. Each is compared with
// what PyTorch itself reads from it (torch.load with stand-in classes, then state_dict()):
// names, order, kinds, dtypes, shapes and the bytes of every tensor; the optimizer links; the
// metadata values as Python's repr() prints them.
#include "formats/loader.h"
#include "model/modelindex.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString checkpoint(const QString& name)
{
    return fixture(QStringLiteral("checkpoints/") + name);
}

std::shared_ptr<const ModelIndex> open(const QString& name)
{
    auto r = loadModel(checkpoint(name));
    if (!r) {
        qWarning("%s", qPrintable(r.error()));
        return nullptr;
    }
    return r.value();
}

QString sha256(const ModelIndex& idx, int i)
{
    auto b = idx.contiguousBytes(i);
    if (!b)
        return QStringLiteral("ERROR: ") + b.error();
    return QString::fromLatin1(
        QCryptographicHash::hash(QByteArrayView(reinterpret_cast<const char*>(b->data()), qsizetype(b->size())),
                                 QCryptographicHash::Sha256)
            .toHex());
}

const MetadataEntry* findMetadata(const ModelIndex& idx, const std::string& name)
{
    for (const auto& m : idx.metadataEntries)
        if (m.name == name)
            return &m;
    return nullptr;
}

}  // namespace

class TestCheckpoints : public QObject {
    Q_OBJECT
private slots:
    void matchesPyTorch_data();
    void matchesPyTorch();
    void moduleClassesAndForeignClasses();
    void pythonAccess();
    void noTensors_data();
    void noTensors();
    void longValuesAreCut();
};

void TestCheckpoints::matchesPyTorch_data()
{
    QTest::addColumn<QString>("file");
    for (const char* f : {"whole_model.pt", "yolo_style.pt", "training_checkpoint.pt"})
        QTest::newRow(f) << QString::fromLatin1(f);
}

void TestCheckpoints::matchesPyTorch()
{
    QFETCH(QString, file);
    const auto idx = open(file);
    QVERIFY(idx);
    const QJsonObject truth =
        readJson(checkpoint(QString(file).replace(QLatin1String(".pt"), QLatin1String(".truth.json"))));
    const QJsonArray tensors = truth.value(QStringLiteral("tensors")).toArray();
    QVERIFY(!tensors.isEmpty());
    QCOMPARE(idx->entries.size(), size_t(tensors.size()));
    for (int i = 0; i < tensors.size(); ++i) {
        const QJsonObject t = tensors[i].toObject();
        const TensorEntry& e = idx->entries[size_t(i)];
        QCOMPARE(QString::fromStdString(e.name), t.value(QStringLiteral("name")).toString());
        QCOMPARE(QString::fromLatin1(tensorKindName(e.kind).data()), t.value(QStringLiteral("kind")).toString());
        QCOMPARE(QString::fromLatin1(dtypeName(e.dtype).data()), t.value(QStringLiteral("dtype")).toString());
        std::vector<std::int64_t> shape;
        for (const auto& d : t.value(QStringLiteral("shape")).toArray())
            shape.push_back(d.toInteger());
        QCOMPARE(e.shape, shape);
        QCOMPARE(sha256(*idx, i), t.value(QStringLiteral("sha256")).toString());
    }
    // Optimizer state: each per-parameter entry names the parameter it belongs to.
    const QJsonObject links = truth.value(QStringLiteral("links")).toObject();
    int linked = 0;
    for (const auto& e : idx->entries) {
        const QString want = links.value(QString::fromStdString(e.name)).toString();
        const QString got =
            e.belongsTo >= 0 ? QString::fromStdString(idx->entries[size_t(e.belongsTo)].name) : QString();
        QCOMPARE(got, want);
        linked += e.belongsTo >= 0;
    }
    QCOMPARE(linked, links.size());
    // Metadata: name, type and Python's repr() of the value.
    for (const auto& m : truth.value(QStringLiteral("metadata")).toArray()) {
        const QJsonObject o = m.toObject();
        const MetadataEntry* got = findMetadata(*idx, o.value(QStringLiteral("name")).toString().toStdString());
        QVERIFY2(got, qPrintable(o.value(QStringLiteral("name")).toString()));
        QCOMPARE(QString::fromStdString(got->value), o.value(QStringLiteral("value")).toString());
        QCOMPARE(QString::fromStdString(got->type), o.value(QStringLiteral("type")).toString());
    }
    // No warning per class: one line for all the callables that were not called.
    int lines = 0;
    for (const auto& w : idx->warnings)
        lines += w.contains(QLatin1String("not on the allow-list"));
    QVERIFY(lines <= 1);
}

void TestCheckpoints::moduleClassesAndForeignClasses()
{
    const auto idx = open(QStringLiteral("yolo_style.pt"));
    QVERIFY(idx);
    QCOMPARE(QString::fromStdString(idx->moduleTypes.at("model")), QStringLiteral("ckpt_models.Model"));
    QCOMPARE(QString::fromStdString(idx->moduleTypes.at("model.model")),
             QStringLiteral("torch.nn.modules.container.Sequential"));
    QCOMPARE(QString::fromStdString(idx->moduleTypes.at("model.model.1")), QStringLiteral("ckpt_models.Bottleneck"));
    QCOMPARE(QString::fromStdString(idx->moduleTypes.at("ema.model.0.conv")),
             QStringLiteral("torch.nn.modules.conv.Conv2d"));
    QCOMPARE(shortClassName(idx->moduleTypes.at("model.model.0.conv")), QStringLiteral("Conv2d"));
    const QJsonObject truth = readJson(checkpoint(QStringLiteral("yolo_style.truth.json")));
    QStringList standIns;
    for (const auto& s : truth.value(QStringLiteral("stand_ins")).toArray())
        standIns << s.toString();
    QStringList foreign = idx->foreignClasses;
    foreign.sort();
    QCOMPARE(foreign, standIns);
    // A plain tensor attribute (Detect.stride) is not in state_dict(): metadata, not an entry.
    QCOMPARE(idx->findEntry("model.model.2.stride"), -1);
    const MetadataEntry* stride = findMetadata(*idx, "model.model.2.stride");
    QVERIFY(stride);
    QCOMPARE(QString::fromStdString(stride->type), QStringLiteral("torch.Tensor"));
    // Non-persistent buffers and unset parameters are left out, as state_dict() leaves them.
    QCOMPARE(idx->findEntry("model.model.1.cache"), -1);
    QCOMPARE(idx->findEntry("model.model.2.missing"), -1);
}

void TestCheckpoints::pythonAccess()
{
    const auto idx = open(QStringLiteral("yolo_style.pt"));
    QVERIFY(idx);
    QCOMPARE(QString::fromStdString(std::string(idx->access(idx->findEntry("model.model.0.conv.weight")))),
             QStringLiteral("[\"model\"].get_parameter(\"model.0.conv.weight\")"));
    QCOMPARE(QString::fromStdString(std::string(idx->access(idx->findEntry("ema.model.0.bn.running_mean")))),
             QStringLiteral("[\"ema\"].get_buffer(\"model.0.bn.running_mean\")"));
    QCOMPARE(QString::fromStdString(std::string(idx->access(idx->findEntry("optimizer.state.3.momentum_buffer")))),
             QStringLiteral("[\"optimizer\"][\"state\"][3][\"momentum_buffer\"]"));
    const auto t = open(QStringLiteral("training_checkpoint.pt"));
    QVERIFY(t);
    QCOMPARE(QString::fromStdString(std::string(t->access(t->findEntry("model_state_dict.0.weight")))),
             QStringLiteral("[\"model_state_dict\"][\"0.weight\"]"));
    const auto whole = open(QStringLiteral("whole_model.pt"));
    QVERIFY(whole);
    QCOMPARE(QString::fromStdString(std::string(whole->access(0))),
             QStringLiteral(".get_parameter(\"model.0.conv.weight\")"));
}

void TestCheckpoints::noTensors_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("why");
    QTest::newRow("scheduler") << QStringLiteral("scheduler_only.pt") << QStringLiteral("learning-rate scheduler");
    QTest::newRow("arguments") << QStringLiteral("args_only.pt") << QStringLiteral("training arguments");
}

void TestCheckpoints::noTensors()
{
    QFETCH(QString, file);
    QFETCH(QString, why);
    const auto idx = open(file);
    QVERIFY(idx);
    QVERIFY(idx->entries.empty());
    QVERIFY2(idx->noTensorsReason.contains(why), qPrintable(idx->noTensorsReason));
    const QJsonObject truth =
        readJson(checkpoint(QString(file).replace(QLatin1String(".pt"), QLatin1String(".truth.json"))));
    for (const auto& m : truth.value(QStringLiteral("metadata")).toArray()) {
        const QJsonObject o = m.toObject();
        const MetadataEntry* got = findMetadata(*idx, o.value(QStringLiteral("name")).toString().toStdString());
        QVERIFY2(got, qPrintable(o.value(QStringLiteral("name")).toString()));
        QCOMPARE(QString::fromStdString(got->value), o.value(QStringLiteral("value")).toString());
    }
}

void TestCheckpoints::longValuesAreCut()
{
    const auto idx = open(QStringLiteral("training_checkpoint.pt"));
    QVERIFY(idx);
    const MetadataEntry* text = findMetadata(*idx, "args.long_text");
    QVERIFY(text);
    QVERIFY2(text->value.size() < 260, text->value.c_str());
    QVERIFY2(QString::fromStdString(text->value).endsWith(QLatin1String("(500 characters)")), text->value.c_str());
    // A list of 1,000 floats is one entry, cut with its length.
    const MetadataEntry* history = findMetadata(*idx, "loss_history");
    QVERIFY(history);
    QCOMPARE(QString::fromStdString(history->type), QStringLiteral("list"));
    QVERIFY2(QString::fromStdString(history->value).startsWith(QLatin1String("[1.0, 0.5, 0.3333333333333333")),
             history->value.c_str());
    QVERIFY2(QString::fromStdString(history->value).contains(QLatin1String("(1,000 items)")), history->value.c_str());
    const MetadataEntry* args = findMetadata(*idx, "args");
    QVERIFY(args);
    QCOMPARE(QString::fromStdString(args->type), QStringLiteral("argparse.Namespace"));
    QVERIFY2(QString::fromStdString(args->value).startsWith(QLatin1String("Namespace(lr=0.001, batch_size=32")),
             args->value.c_str());
}

QTEST_GUILESS_MAIN(TestCheckpoints)
#include "tst_checkpoints.moc"
