// paramscope-cli's list --all and tree beyond the tensors: the metadata entries, the classes
// not imported, the shard and belongs-to of each entry, the module classes beside module
// rows. Real safetensors fixtures through the tool as a user runs it, compared with the
// files' own JSON; models filled by hand through the same output functions.
#include "cli/commandoutput.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "testutil.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString st(const QString& name)
{
    return fixture(QStringLiteral("safetensors/") + name);
}

/// A checkpoint as the pickle walker describes one: a model with module classes, an
/// optimizer entry that belongs to a parameter, metadata with characters to escape.
std::shared_ptr<ModelIndex> handMade()
{
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("/m/ckpt.pt");
    index->format = ModelFormat::TorchSave;
    index->engine = QStringLiteral("native");
    for (const char* n : {"model.conv1.weight", "model.conv1.bias", "model.fc.weight", "optimizer.state.0.exp_avg"}) {
        TensorEntry e;
        e.name = n;
        e.kind = TensorKind::Parameter;
        e.dtype = DType::Float32;
        e.shape = {2};
        e.strides = {1};
        index->entries.push_back(e);
    }
    index->entries[3].kind = TensorKind::Tensor;
    index->entries[3].belongsTo = 0;
    index->moduleTypes = {{"model", "models.net.Net"},
                          {"model.conv1", "torch.nn.modules.conv.Conv2d"},
                          {"model.fc", "torch.nn.modules.linear.Linear"}};
    index->foreignClasses = QStringList{QStringLiteral("models.net.Net"), QStringLiteral("argparse.Namespace")};
    index->metadataEntries = {{"epoch", "int", "3"},
                              {"args.lr", "float", "0.001"},
                              {"args.name\tx", "str", "'run\n1'"},
                              {"note", "str", "caf\xC3\xA9 \xE6\x9D\x83"}};
    index->finalize();
    index->accessBases.push_back(
        {"[\"optimizer\"][\"state\"][0][\"exp_avg\"]", 0, ModelIndex::AccessBase::Step::Exact});
    index->accessOf = {0, 0, 0, 1};
    return index;
}

QString listOf(const ModelIndex& index, cli::ListOutput o)
{
    QString s;
    QTextStream out(&s);
    std::vector<int> all;
    for (size_t i = 0; i < index.entries.size(); ++i)
        all.push_back(int(i));
    cli::writeList(index, all, QStringLiteral("/m/ckpt.pt"), o, out);
    out.flush();
    return s;
}

}  // namespace

class TestCliOutput : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listAllPrintsSafetensorsMetadata();
    void listAllJsonSharded();
    void checkpointThroughTheTool();
    void treeDoesNotPadEveryLineToOneLongName();
    void listAllPlainEscapes();
    void listAllJsonKeepsExact();
    void treeShowsModuleClasses();
    void treeSaysNewFormatNames();
};

void TestCliOutput::listAllPrintsSafetensorsMetadata()
{
    const QJsonObject truth = readJson(st(QStringLiteral("all_dtypes.json")));
    QVERIFY2(!truth.isEmpty(), "run the fixtures_safetensors test");
    const CliRun all =
        runCli({QStringLiteral("list"), st(QStringLiteral("all_dtypes.safetensors")), QStringLiteral("--all")});
    QCOMPARE(all.code, 0);
    const CliRun plain = runCli({QStringLiteral("list"), st(QStringLiteral("all_dtypes.safetensors"))});
    QCOMPARE(plain.code, 0);
    const QStringList lines = all.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    const qsizetype tensors = truth.value(QStringLiteral("entries")).toArray().size();
    const QJsonObject meta = truth.value(QStringLiteral("metadata")).toObject();
    QCOMPARE(meta.size(), 2);
    QCOMPARE(lines.size(), tensors + 1 + meta.size());
    // Plain list is unchanged: the tensors alone, the same lines --all starts with.
    QCOMPARE(plain.out, lines.mid(0, tensors).join(QLatin1Char('\n')) + QLatin1Char('\n'));
    QCOMPARE(lines[tensors], QStringLiteral("# metadata: 2 values (name, type, value)"));
    QStringList expected;
    for (auto it = meta.begin(); it != meta.end(); ++it)
        expected << QStringLiteral("__metadata__.%1\tstr\t%2").arg(it.key(), it.value().toString());
    QCOMPARE(lines.mid(tensors + 1), expected);
}

void TestCliOutput::listAllJsonSharded()
{
    const QString indexFile = st(QStringLiteral("sharded/model.safetensors.index.json"));
    const CliRun r = runCli({QStringLiteral("list"), indexFile, QStringLiteral("--all"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonParseError perr;
    const QJsonObject got = QJsonDocument::fromJson(r.out.toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString() + r.out));
    const QJsonObject index = readJson(indexFile);
    const QJsonObject weightMap = index.value(QStringLiteral("weight_map")).toObject();
    const QJsonArray entries = got.value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), weightMap.size());
    for (const auto& v : entries) {
        const QJsonObject e = v.toObject();
        QCOMPARE(e.value(QStringLiteral("shard")).toString(),
                 weightMap.value(e.value(QStringLiteral("name")).toString()).toString());
        QVERIFY(e.value(QStringLiteral("belongs_to")).isNull());
    }
    // The index's own metadata (total_size, a JSON number), then the shards' __metadata__.
    const QJsonArray meta = got.value(QStringLiteral("metadata")).toArray();
    QCOMPARE(meta.size(), 2);
    QCOMPARE(meta[0].toObject(), (QJsonObject{{"name", "metadata.total_size"},
                                              {"type", "int"},
                                              {"value", QString::number(index.value(QStringLiteral("metadata"))
                                                                            .toObject()
                                                                            .value(QStringLiteral("total_size"))
                                                                            .toInteger())}}));
    QCOMPARE(meta[1].toObject(), (QJsonObject{{"name", "__metadata__.format"}, {"type", "str"}, {"value", "pt"}}));
    QCOMPARE(got.value(QStringLiteral("foreign_classes")).toArray(), QJsonArray());
    QVERIFY(got.value(QStringLiteral("no_tensors_reason")).isNull());
    // Without --all the JSON is as before.
    const CliRun plain = runCli({QStringLiteral("list"), indexFile, QStringLiteral("--json")});
    const QJsonObject p = QJsonDocument::fromJson(plain.out.toUtf8()).object();
    QCOMPARE(p.keys(), (QStringList{"engine", "entries", "file", "format"}));
    QVERIFY(!p.value(QStringLiteral("entries")).toArray().first().toObject().contains(QStringLiteral("shard")));
}

void TestCliOutput::checkpointThroughTheTool()
{
    // A YOLO-style checkpoint written by PyTorch, its classes unimportable: the classes named
    // once on stderr (those torch.load needed stand-ins for), the chosen metadata and the
    // optimizer links in list --all --json as PyTorch reads them, the module classes in tree.
    const QString file = fixture(QStringLiteral("checkpoints/yolo_style.pt"));
    const QJsonObject truth = readJson(fixture(QStringLiteral("checkpoints/yolo_style.truth.json")));
    QVERIFY2(!truth.isEmpty(), "run the fixtures_checkpoints test");
    const CliRun r = runCli({QStringLiteral("list"), file, QStringLiteral("--all"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const QStringList classLines = r.err.split(QLatin1Char('\n')).filter(QStringLiteral("classes not imported"));
    QCOMPARE(classLines.size(), 1);
    QStringList named = classLines[0].section(QStringLiteral(": "), 2).split(QStringLiteral(", "));
    named.sort();
    QStringList standIns;
    for (const auto& v : truth.value(QStringLiteral("stand_ins")).toArray())
        standIns << v.toString();
    standIns.sort();
    QCOMPARE(named, standIns);
    const QJsonObject got = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QStringList foreign;
    for (const auto& v : got.value(QStringLiteral("foreign_classes")).toArray())
        foreign << v.toString();
    foreign.sort();
    QCOMPARE(foreign, standIns);
    const QJsonArray meta = got.value(QStringLiteral("metadata")).toArray();
    for (const auto& want : truth.value(QStringLiteral("metadata")).toArray()) {
        int found = 0;
        for (const auto& m : meta)
            found += m.toObject() == want.toObject();
        QVERIFY2(found == 1, qPrintable(QJsonDocument(want.toObject()).toJson(QJsonDocument::Compact)));
    }
    const QJsonObject links = truth.value(QStringLiteral("links")).toObject();
    QVERIFY(!links.isEmpty());
    int linked = 0;
    for (const auto& v : got.value(QStringLiteral("entries")).toArray()) {
        const QJsonObject e = v.toObject();
        const QString name = e.value(QStringLiteral("name")).toString();
        if (links.contains(name)) {
            QCOMPARE(e.value(QStringLiteral("belongs_to")).toString(), links.value(name).toString());
            ++linked;
        } else {
            QVERIFY2(e.value(QStringLiteral("belongs_to")).isNull(), qPrintable(name));
        }
    }
    QCOMPARE(linked, links.size());
    const CliRun tree = runCli({QStringLiteral("tree"), file, QStringLiteral("--depth"), QStringLiteral("3")});
    QCOMPARE(tree.code, 0);
    for (const char* row : {"├─ model (Model) ", "│  ├─ model (Sequential) ", "│  │  ├─ 0 (Conv) ",
                            "│  │  ├─ 1 (Bottleneck) ", "│  │  └─ 2 (Detect) ", "│  ├─ embed (Embedding) "})
        QVERIFY2(tree.out.contains(QString::fromUtf8(row)),
                 qPrintable(QString::fromUtf8(row) + QLatin1Char('\n') + tree.out));
}

void TestCliOutput::listAllPlainEscapes()
{
    const auto index = handMade();
    const QString out = listOf(*index, {false, true});
    const QStringList lines = out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4 + 1 + 4);
    QCOMPARE(lines[4], QStringLiteral("# metadata: 4 values (name, type, value)"));
    QCOMPARE(lines[5], QStringLiteral("epoch\tint\t3"));
    QCOMPARE(lines[6], QStringLiteral("args.lr\tfloat\t0.001"));
    QCOMPARE(lines[7], QStringLiteral("args.name\\tx\tstr\t'run\\n1'"));  // escaped like names: one line, 3 fields
    QCOMPARE(lines[8], QStringLiteral("note\tstr\tcaf\u00e9 \u6743"));
    QVERIFY(!listOf(*index, {false, false}).contains(QStringLiteral("# metadata")));
}

void TestCliOutput::listAllJsonKeepsExact()
{
    const auto index = handMade();
    index->noTensorsReason = QStringLiteral("a scheduler's state");
    QJsonParseError perr;
    const QJsonObject got = QJsonDocument::fromJson(listOf(*index, {true, true}).toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    const QJsonArray meta = got.value(QStringLiteral("metadata")).toArray();
    QCOMPARE(meta.size(), 4);
    QCOMPARE(meta[2].toObject(), (QJsonObject{{"name", "args.name\tx"}, {"type", "str"}, {"value", "'run\n1'"}}));
    QCOMPARE(meta[3].toObject().value(QStringLiteral("value")).toString(), QStringLiteral("caf\u00e9 \u6743"));
    QCOMPARE(got.value(QStringLiteral("foreign_classes")).toArray(),
             (QJsonArray{"models.net.Net", "argparse.Namespace"}));
    QCOMPARE(got.value(QStringLiteral("no_tensors_reason")).toString(), QStringLiteral("a scheduler's state"));
    const QJsonArray entries = got.value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries[3].toObject().value(QStringLiteral("belongs_to")).toString(),
             QStringLiteral("model.conv1.weight"));
    QVERIFY(entries[0].toObject().value(QStringLiteral("belongs_to")).isNull());
    QVERIFY(entries[0].toObject().value(QStringLiteral("shard")).isNull());
    QCOMPARE(entries[3].toObject().value(QStringLiteral("access")).toString(),
             QStringLiteral("[\"optimizer\"][\"state\"][0][\"exp_avg\"]"));
    QVERIFY(entries[0].toObject().value(QStringLiteral("access")).isNull());
}

void TestCliOutput::treeShowsModuleClasses()
{
    const auto index = handMade();
    index->moduleTypes[""] = "collections.OrderedDict";
    const ModelTree tree = ModelTree::build(*index);
    QString s;
    QTextStream out(&s);
    cli::writeTree(*index, tree, QStringLiteral("ckpt.pt"), out);
    out.flush();
    const QStringList lines = s.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY2(lines[0].startsWith(QStringLiteral("ckpt.pt (OrderedDict)  torch.save checkpoint")), qPrintable(lines[0]));
    QVERIFY2(lines[1].startsWith(QStringLiteral("├─ model (Net) ")), qPrintable(s));
    QVERIFY2(lines[2].startsWith(QStringLiteral("│  ├─ conv1 (Conv2d) ")), qPrintable(s));
    QVERIFY2(lines[3].startsWith(QStringLiteral("│  │  ├─ weight  ")), qPrintable(s));  // tensors: no class
    QVERIFY2(lines[5].startsWith(QStringLiteral("│  └─ fc (Linear) ")), qPrintable(s));
    QVERIFY2(lines[7].startsWith(QStringLiteral("└─ optimizer  ")), qPrintable(s));  // no class named
}

void TestCliOutput::treeSaysNewFormatNames()
{
    const auto index = handMade();
    const std::pair<ModelFormat, QString> formats[] = {
        {ModelFormat::TorchSaveLegacy, QStringLiteral("torch.save checkpoint (legacy format)")},
        {ModelFormat::TorchSaveTar, QStringLiteral("torch.save checkpoint (tar format)")},
        {ModelFormat::TorchScriptMobile, QStringLiteral("TorchScript mobile archive")}};
    for (const auto& [format, name] : formats) {
        index->format = format;
        const ModelTree tree = ModelTree::build(*index);
        QString s;
        QTextStream out(&s);
        cli::writeTree(*index, tree, QStringLiteral("m.pt"), out, 0);
        out.flush();
        QCOMPARE(s.count(QLatin1Char('\n')), 1);
        QVERIFY2(s.startsWith(QStringLiteral("m.pt  ") + name + QStringLiteral("  ")), qPrintable(s));
    }
}

void TestCliOutput::treeDoesNotPadEveryLineToOneLongName()
{
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("/m/long.pt");
    index->format = ModelFormat::TorchSave;
    std::vector<std::string> names;
    for (int i = 0; i < 30; ++i)
        names.push_back("layers." + std::to_string(i) + ".weight");
    names.push_back("adapter." + std::string(150, 'x') + ".weight");
    for (const std::string& n : names) {
        TensorEntry e;
        e.name = n;
        e.dtype = DType::Float32;
        e.shape = {2};
        e.strides = {1};
        index->entries.push_back(e);
    }
    index->finalize();
    const ModelTree tree = ModelTree::build(*index);
    QString s;
    QTextStream out(&s);
    cli::writeTree(*index, tree, QStringLiteral("long.pt"), out);
    out.flush();
    const QStringList lines = s.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    int longest = 0, shortLines = 0;
    for (const QString& l : lines) {
        longest = std::max(longest, int(l.size()));
        if (l.contains(QLatin1String("weight")) && !l.contains(QLatin1String("xxx")))
            shortLines += l.size() < 100 ? 1 : 0;
    }
    QVERIFY(longest > 150);    // the long name is there, whole
    QCOMPARE(shortLines, 31);  // the others are not padded to it (the 30 layers and adapter.x…x.weight)
}

QTEST_GUILESS_MAIN(TestCliOutput)
#include "tst_clioutput.moc"
