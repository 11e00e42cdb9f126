// The Python snippet of every kind of file, run with Python itself: for each tensor of
// real torch.save and TorchScript fixtures, the snippet runs as it is copied and yields a
// tensor with the shape and the exact bytes ParamScope reads for that entry. The
// safetensors snippets (the safetensors package is not installed here) are checked as text.
#include "base/textutil.h"
#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/snippet.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

using namespace paramscope;

namespace {

/// Runs every snippet (each in a fresh namespace) with python3; for each, the shape of `t`
/// and the sha256 of its elements' bytes in C order (quantized: their integers), or the error.
QJsonArray runSnippets(const QJsonArray& snippets, bool standIns = false)
{
    // With standIns, modules that cannot be imported become stand-ins whose classes are plain
    // nn.Module subclasses: the user's training code, which the fixtures' classes lived in.
    static const char* script = R"PY(
import hashlib, importlib.abc, importlib.machinery, json, numpy, sys, types, torch
from torch import nn
made = {}
class StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        return importlib.machinery.ModuleSpec(name, self, is_package=True)
    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__path__ = []
        def attr(cls_name, module=spec.name):
            if cls_name.startswith("__"):
                raise AttributeError(cls_name)
            return made.setdefault(module + "." + cls_name, type(cls_name, (nn.Module,), {"__module__": module}))
        m.__getattr__ = attr
        return m
    def exec_module(self, module):
        pass
if sys.argv[1] == "1":
    sys.meta_path.append(StandIns())   # consulted only after every real finder failed
    # Classes the training script defined in __main__ (a model pickled from a notebook).
    def main_attr(cls_name):
        if cls_name.startswith("__"):
            raise AttributeError(cls_name)
        return made.setdefault("__main__." + cls_name, type(cls_name, (nn.Module,), {"__module__": "__main__"}))
    sys.modules["__main__"].__getattr__ = main_attr
out = []
for s in json.load(sys.stdin):
    ns = {}
    try:
        exec(s, ns)
        t = ns["t"]
        if isinstance(t, numpy.ndarray):  # a NumPy array in a checkpoint: C order, little-endian
            a = t.copy(order="C")  # not ascontiguousarray: it makes a 0-d array 1-d
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("<"))
            out.append({"shape": list(a.shape), "sha256": hashlib.sha256(a.tobytes()).hexdigest()})
            continue
        t = t.detach()
        if t.is_quantized:
            t = t.int_repr()
        flat = t.reshape(-1).contiguous()
        raw = flat.view(torch.uint8) if flat.numel() else torch.empty(0, dtype=torch.uint8)
        out.append({"shape": list(t.shape), "sha256": hashlib.sha256(raw.numpy().tobytes()).hexdigest()})
    except Exception as e:
        out.append({"error": f"{type(e).__name__}: {e}"})
json.dump(out, sys.stdout)
)PY";
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON),
            {QStringLiteral("-c"), QString::fromUtf8(script), standIns ? QStringLiteral("1") : QStringLiteral("0")});
    p.write(QJsonDocument(snippets).toJson());
    p.closeWriteChannel();
    p.waitForFinished(300000);
    if (p.exitCode() != 0)
        qWarning("python: %s", p.readAllStandardError().constData());
    return QJsonDocument::fromJson(p.readAllStandardOutput()).array();
}

/// Checks that every entry's snippet gives the entry's shape and bytes.
void checkSnippetsRun(const ModelIndex& index, const std::vector<int>& entries, bool standIns = false)
{
    QJsonArray snippets;
    for (int i : entries)
        snippets << pythonSnippet(index, i);
    const QJsonArray got = runSnippets(snippets, standIns);
    QCOMPARE(got.size(), snippets.size());
    for (qsizetype k = 0; k < got.size(); ++k) {
        const TensorEntry& e = index.entries[size_t(entries[size_t(k)])];
        const QJsonObject o = got[k].toObject();
        QVERIFY2(!o.contains(QStringLiteral("error")), qPrintable(snippets[k].toString() + QStringLiteral("\n-> ") +
                                                                  o.value(QStringLiteral("error")).toString()));
        QJsonArray shape;
        for (auto d : e.shape)
            shape << qint64(d);
        QCOMPARE(o.value(QStringLiteral("shape")).toArray(), shape);
        const auto bytes = index.contiguousBytes(entries[size_t(k)]);
        QVERIFY2(bytes, qPrintable(bytes.error()));
        const QByteArray hash =
            QCryptographicHash::hash(QByteArrayView(bytes.value().data(), qsizetype(bytes.value().size())),
                                     QCryptographicHash::Sha256)
                .toHex();
        QVERIFY2(o.value(QStringLiteral("sha256")).toString().toLatin1() == hash, e.name.c_str());
    }
}

std::vector<int> allEntries(const ModelIndex& index)
{
    std::vector<int> v;
    for (size_t i = 0; i < index.entries.size(); ++i)
        v.push_back(int(i));
    return v;
}

std::shared_ptr<const ModelIndex> load(const QString& name)
{
    auto r = loadModel(test::fixture(name));
    if (!r)
        qWarning("%s", qPrintable(r.error()));
    return r ? r.value() : nullptr;
}

}  // namespace

class TestSnippet : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void runsOnFlatFiles_data();
    void runsOnFlatFiles();
    void runsOnCheckpoints_data();
    void runsOnCheckpoints();
    void runsOnLegacyFiles_data();
    void runsOnLegacyFiles();
    void runsOnTorchKinds_data();
    void runsOnTorchKinds();
    void frozenConstantsHaveNoName();
    void accessPathRuns();
    void foreignClassesLoadWithoutWeightsOnly();
    void safetensorsText();
    void shardedUsesTheShardFile();
    void loadingLineByFormat_data();
    void loadingLineByFormat();
    void outOfRangeIsEmpty();
};

void TestSnippet::runsOnFlatFiles_data()
{
    QTest::addColumn<QString>("file");
    for (const char* f : {"archive/ts_seed.pt", "archive/ts_nested.pt", "archive/ts_norms.pt", "archive/ts_tied.pt",
                          "archive/ts_dtypes.pt", "archive/ts_attrs.pt", "archive/sv_state_dict.pt",
                          "archive/sv_dtypes.pt", "archive/sv_params.pt", "nested.pt", "batchnorm.pt"})
        QTest::newRow(f) << QString::fromLatin1(f);
}

void TestSnippet::runsOnFlatFiles()
{
    QFETCH(QString, file);
    const auto index = load(file);
    QVERIFY(index);
    QVERIFY(!index->entries.empty());
    checkSnippetsRun(*index, allEntries(*index));
}

void TestSnippet::runsOnCheckpoints_data()
{
    QTest::addColumn<QString>("file");
    for (const char* f :
         {"checkpoints/whole_model.pt", "checkpoints/yolo_style.pt", "checkpoints/training_checkpoint.pt"})
        QTest::newRow(f) << QString::fromLatin1(f);
}

void TestSnippet::runsOnCheckpoints()
{
    // Whole pickled models, a YOLO-style dict, a training loop's dict: the walker's access
    // paths (["model"].get_parameter(...), ["optimizer"]["state"][0][...]) run as copied,
    // torch.load(weights_only=False) importing the classes (stand-ins for the training code).
    QFETCH(QString, file);
    const auto index = load(file);
    QVERIFY(index);
    QVERIFY(!index->entries.empty());
    QVERIFY(!index->foreignClasses.isEmpty());
    int withAccess = 0;
    for (size_t i = 0; i < index->entries.size(); ++i)
        withAccess += !index->access(int(i)).empty();
    QVERIFY(withAccess > 0);
    QVERIFY(pythonLoadingLines(*index, 0).contains(QStringLiteral("weights_only=False")));
    checkSnippetsRun(*index, allEntries(*index), true);
}

void TestSnippet::runsOnTorchKinds_data()
{
    QTest::addColumn<QString>("file");
    // Quantized TorchScript (static, per-channel, dynamic), a whole eager quantized model,
    // a mobile model, NumPy arrays in a checkpoint.
    for (const char* f :
         {"qstatic.pt", "qstatic_per_channel.pt", "qdynamic.pt", "qeager.pt", "mobile.ptl", "numpy_ckpt.pt"})
        QTest::newRow(f) << QStringLiteral("torchkinds/%1").arg(QLatin1String(f));
}

void TestSnippet::runsOnTorchKinds()
{
    // Quantized modules' weights come from torch.ops.quantized's unpack functions (TorchScript)
    // or the eager model's state_dict(); scale and zero point from the module's numbers.
    QFETCH(QString, file);
    const auto index = load(file);
    QVERIFY(index);
    QVERIFY(!index->entries.empty());
    checkSnippetsRun(*index, allEntries(*index), true);
}

void TestSnippet::frozenConstantsHaveNoName()
{
    for (const char* f : {"torchkinds/qfrozen.pt", "torchkinds/mobile_frozen.ptl"}) {
        const auto index = load(QLatin1String(f));
        QVERIFY(index);
        QVERIFY(!index->entries.empty());
        for (size_t i = 0; i < index->entries.size(); ++i)
            QVERIFY2(pythonExpression(*index, int(i)).contains(QLatin1String("gives it no Python name")),
                     qPrintable(pythonExpression(*index, int(i))));
    }
}

void TestSnippet::runsOnLegacyFiles_data()
{
    QTest::addColumn<QString>("file");
    for (const char* f : {"checkpoint", "cuda_storage", "module", "old_tar", "protocol4", "simple", "state_dict",
                          "storage_views", "views"})
        QTest::newRow(f) << QStringLiteral("legacy/%1.pt").arg(QLatin1String(f));
}

void TestSnippet::runsOnLegacyFiles()
{
    // The pre-zip torch.save format and the PyTorch 0.1-0.3 tar format: torch.load reads both.
    QFETCH(QString, file);
    const auto index = load(file);
    QVERIFY(index);
    QVERIFY(index->format == ModelFormat::TorchSaveLegacy || index->format == ModelFormat::TorchSaveTar);
    QVERIFY(pythonLoadingLines(*index, 0).contains(QStringLiteral("obj = torch.load(")));
    checkSnippetsRun(*index, allEntries(*index));
}

void TestSnippet::accessPathRuns()
{
    // A nested checkpoint ({"model": state_dict, "optimizer": ..., "by_key": {0.1: ..., 2: ...,
    // True: ...}}): each access path reaches its tensor inside what torch.load returns.
    const auto index = load(QStringLiteral("archive/sv_checkpoint.pt"));
    QVERIFY(index);
    QVERIFY(index->foreignClasses.isEmpty());
    QVERIFY(!pythonLoadingLines(*index, 0).contains(QStringLiteral("weights_only")));
    const int fc = index->findEntry("model.bn.weight");
    QVERIFY(fc >= 0);
    QCOMPARE(pythonExpression(*index, fc), QStringLiteral("obj[\"model\"][\"bn.weight\"]"));
    checkSnippetsRun(*index, allEntries(*index));
}

void TestSnippet::foreignClassesLoadWithoutWeightsOnly()
{
    const auto loaded = load(QStringLiteral("archive/sv_state_dict.pt"));
    QVERIFY(loaded);
    ModelIndex index = *loaded;
    index.foreignClasses << QStringLiteral("models.yolo.Model\nx") << QStringLiteral("models.common.Conv");
    const QString lines = pythonLoadingLines(index, 0);
    QVERIFY2(lines.contains(QStringLiteral("weights_only=False")), qPrintable(lines));
    // A class name from the file never breaks out of its comment line.
    QCOMPARE(lines.count(QLatin1Char('\n')), 2);
    QVERIFY(lines.contains(QStringLiteral("models.yolo.Model\\nx, ...")));
    checkSnippetsRun(index, {0});
    // A pickled torch.nn module alone (no class from outside torch): still weights_only=False,
    // which PyTorch 2.6 and later need for any nn.Module.
    index.foreignClasses.clear();
    index.moduleTypes = {{"", "torch.nn.modules.container.Sequential"}, {"0", "torch.nn.modules.linear.Linear"}};
    QCOMPARE(
        pythonLoadingLines(index, 0).section(QLatin1Char('\n'), 1, 1),
        QStringLiteral("# the file pickles classes (torch.nn.modules.container.Sequential, ...): weights_only=False "
                       "imports and runs their code"));
    index.moduleTypes.clear();
    QVERIFY(!pythonLoadingLines(index, 0).contains(QStringLiteral("weights_only")));
}

void TestSnippet::safetensorsText()
{
    const auto index = load(QStringLiteral("safetensors/unusual.safetensors"));
    QVERIFY(index);
    QVERIFY(!index->entries.empty());
    const QString path = index->filePath;
    QCOMPARE(pythonSnippet(*index, 0),
             QStringLiteral("from safetensors.torch import load_file\nsd = load_file(%1)\n"
                            "t = sd[%2]")
                 .arg(pythonStringLiteral(path), pythonStringLiteral(index->entries[0].name)));
}

void TestSnippet::shardedUsesTheShardFile()
{
    const auto index = load(QStringLiteral("safetensors/sharded/model.safetensors.index.json"));
    QVERIFY(index);
    QCOMPARE(index->format, ModelFormat::ShardedSafetensors);
    int checked = 0;
    for (size_t i = 0; i < index->entries.size(); ++i) {
        const TensorEntry& e = index->entries[i];
        QVERIFY(e.sourceFile >= 0 && e.sourceFile < index->sourceFiles.size());
        const QString shard = index->sourceFiles[e.sourceFile];
        QVERIFY(QFileInfo(shard).fileName().startsWith(QStringLiteral("model-0000")));
        QCOMPARE(pythonLoadingLines(*index, int(i)),
                 QStringLiteral("from safetensors.torch import load_file\nsd = load_file(%1)")
                     .arg(pythonStringLiteral(shard)));
        QCOMPARE(pythonExpression(*index, int(i)), QStringLiteral("sd[%1]").arg(pythonStringLiteral(e.name)));
        ++checked;
    }
    QVERIFY(checked > 3);
}

void TestSnippet::loadingLineByFormat_data()
{
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("loading");
    QTest::addColumn<QString>("expression");
    const QString torchLoad = QStringLiteral("import torch\nobj = torch.load(\"/m/x.pt\", map_location=\"cpu\")");
    const QString jitLoad = QStringLiteral("import torch\nm = torch.jit.load(\"/m/x.pt\", map_location=\"cpu\")");
    QTest::newRow("torch.save") << int(ModelFormat::TorchSave) << torchLoad << "obj[\"a.w\"]";
    QTest::newRow("legacy") << int(ModelFormat::TorchSaveLegacy) << torchLoad << "obj[\"a.w\"]";
    QTest::newRow("tar") << int(ModelFormat::TorchSaveTar) << torchLoad << "obj[\"a.w\"]";
    QTest::newRow("torchscript") << int(ModelFormat::TorchScript) << jitLoad << "m.state_dict()[\"a.w\"]";
    QTest::newRow("mobile") << int(ModelFormat::TorchScriptMobile) << jitLoad << "m.state_dict()[\"a.w\"]";
}

void TestSnippet::loadingLineByFormat()
{
    QFETCH(int, format);
    QFETCH(QString, loading);
    QFETCH(QString, expression);
    ModelIndex index;
    index.filePath = QStringLiteral("/m/x.pt");
    index.format = ModelFormat(format);
    TensorEntry e;
    e.name = "a.w";
    e.kind = TensorKind::Parameter;
    e.dtype = DType::Float32;
    index.entries.push_back(e);
    TensorEntry arr;  // a NumPy array inside the checkpoint: reached through its access path
    arr.name = "rng.state";
    arr.kind = TensorKind::Array;
    arr.dtype = DType::UInt8;
    index.entries.push_back(arr);
    index.accessBases.push_back({"[\"rng\"][\"state\"]", 0, ModelIndex::AccessBase::Step::Exact});
    index.accessOf = {0, 1};
    index.finalize();
    QCOMPARE(pythonLoadingLines(index, 0), loading);
    QCOMPARE(pythonExpression(index, 0), expression);
    QCOMPARE(pythonSnippet(index, 0), loading + QStringLiteral("\nt = ") + expression);
    QCOMPARE(pythonExpression(index, 1), loading.section(QLatin1Char('\n'), 1).section(QLatin1Char(' '), 0, 0) +
                                             QStringLiteral("[\"rng\"][\"state\"]"));
}

void TestSnippet::outOfRangeIsEmpty()
{
    ModelIndex index;
    QVERIFY(pythonSnippet(index, 0).isEmpty());
    QVERIFY(pythonLoadingLines(index, -1).isEmpty());
    QVERIFY(pythonExpression(index, 3).isEmpty());
}

QTEST_GUILESS_MAIN(TestSnippet)
#include "tst_snippet.moc"
