// The kinds of PyTorch file beyond plain state_dicts, against what PyTorch itself reads from
// them (truth files of tests/fixtures/make_torchkinds_fixtures.py): NumPy arrays inside
// checkpoints (NumPy 1.x and 2.x module names), PyTorch 2.x records laid out by hand
// (_rebuild_tensor_v3 with float8 and unsigned dtypes, meta tensors, sparse tensors, tensor
// subclasses, Parameters with state), TorchScript mobile files (plain and frozen), and
// quantized TorchScript models (static per-tensor and per-channel, dynamic) named as the eager
// model's state_dict() names them. Names, order, kind, dtype, shape and values; then the bad
// inputs of each new record, each with its message.
#include "formats/loader.h"
#include "formats/pickle/pickle.h"
#include "model/modelindex.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>
#include <cstring>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString kindsFixture(const QString& name)
{
    return fixture(QStringLiteral("torchkinds/") + name);
}

/// float8_e4m3fn written out from its definition (1 sign, 4 exponent bits of bias 7, 3
/// mantissa bits; S.1111.111 is NaN), independently of the decoder under test.
double e4m3(std::uint8_t b)
{
    const double sign = (b & 0x80) ? -1.0 : 1.0;
    const int e = (b >> 3) & 0xf, m = b & 7;
    if (e == 0xf && m == 7)
        return std::nan("");
    return e == 0 ? sign * (m / 8.0) * std::ldexp(1.0, -6) : sign * (1 + m / 8.0) * std::ldexp(1.0, e - 7);
}

/// The fnuz float8 formats from their definition: no infinities, no -0, 0x80 the only NaN.
double fnuz(std::uint8_t b, int expBits, int bias)
{
    if (b == 0x80)
        return std::nan("");
    const int mb = 7 - expBits;
    const double sign = (b & 0x80) ? -1.0 : 1.0;
    const int e = (b >> mb) & ((1 << expBits) - 1), m = b & ((1 << mb) - 1);
    const double frac = m / double(1 << mb);
    return e == 0 ? sign * frac * std::ldexp(1.0, 1 - bias) : sign * (1 + frac) * std::ldexp(1.0, e - bias);
}

/// float8_e5m2: 1 sign, 5 exponent bits of bias 15, 2 mantissa bits.
double e5m2(std::uint8_t b)
{
    const double sign = (b & 0x80) ? -1.0 : 1.0;
    const int e = (b >> 2) & 0x1f, m = b & 3;
    if (e == 0x1f)
        return m ? std::nan("") : sign * INFINITY;
    return e == 0 ? sign * (m / 4.0) * std::ldexp(1.0, -14) : sign * (1 + m / 4.0) * std::ldexp(1.0, e - 15);
}

template <typename V>
double at(const std::uint8_t* p, std::int64_t i)
{
    V v;
    std::memcpy(&v, p + sizeof(V) * std::size_t(i), sizeof(V));
    return double(v);
}

/// An entry's values as doubles, quantized ones dequantized as PyTorch does.
std::vector<double> valuesOf(const ModelIndex& index, int i)
{
    const TensorEntry& e = index.entries[size_t(i)];
    auto bytes = index.contiguousBytes(i);
    if (!bytes)
        return {};
    const std::uint8_t* p = bytes->data();
    std::vector<double> out;
    switch (e.dtype) {
        case DType::UInt16:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(at<std::uint16_t>(p, k));
            return out;
        case DType::UInt32:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(at<std::uint32_t>(p, k));
            return out;
        case DType::UInt64:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(at<std::uint64_t>(p, k));
            return out;
        case DType::Float8E4M3:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(e4m3(p[k]));
            return out;
        case DType::Float8E5M2:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(e5m2(p[k]));
            return out;
        case DType::Float8E4M3FNUZ:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(fnuz(p[k], 4, 8));
            return out;
        case DType::Float8E5M2FNUZ:
            for (std::int64_t k = 0; k < e.numel; ++k)
                out.push_back(fnuz(p[k], 5, 16));
            return out;
        case DType::QInt8:
        case DType::QUInt8:
        case DType::QInt32: {
            // Elements in C order: the channel of element k is its index along qChannels->axis.
            std::int64_t inner = 1;
            if (e.qChannels())
                for (size_t d = size_t(e.qChannels()->axis) + 1; d < e.shape.size(); ++d)
                    inner *= e.shape[d];
            for (std::int64_t k = 0; k < e.numel; ++k) {
                const double q = e.dtype == DType::QInt8    ? at<std::int8_t>(p, k)
                                 : e.dtype == DType::QUInt8 ? at<std::uint8_t>(p, k)
                                                            : at<std::int32_t>(p, k);
                double scale = e.qScale(), zero = double(e.qZeroPoint());
                if (e.qChannels()) {
                    const auto c = size_t((k / inner) % e.shape[size_t(e.qChannels()->axis)]);
                    scale = e.qChannels()->scales[c];
                    zero = double(e.qChannels()->zeroPoints[c]);
                }
                out.push_back((q - zero) * scale);
            }
            return out;
        }
        default:
            return decode(e.dtype, p, e.numel);
    }
}

std::vector<std::int64_t> shapeOf(const QJsonValue& v)
{
    std::vector<std::int64_t> s;
    for (const auto& d : v.toArray())
        s.push_back(std::int64_t(d.toDouble()));
    return s;
}

bool warned(const ModelIndex& index, const QString& text)
{
    for (const auto& w : index.warnings)
        if (w.contains(text))
            return true;
    return false;
}

}  // namespace

class TestTorchKinds : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesPython_data();
    void matchesPython();
    void numpyPickleProtocols_data();
    void numpyPickleProtocols();
    void numpyScalarsAreMetadata();
    void metaTensorHasNoData();
    void frozenModelSaysWhy();
    void quantizedNotCustomFormat();
    void badInputs_data();
    void badInputs();
};

void TestTorchKinds::matchesPython_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("truth");
    const struct {
        const char* file;
        const char* truth;
    } rows[] = {
        {"numpy_ckpt.pt", "numpy_ckpt"},
        {"numpy2_ckpt.pt", "numpy2_ckpt"},
        {"torch2.pt", "torch2"},
        {"mobile.ptl", "mobile"},
        {"mobile_frozen.ptl", "mobile_frozen"},
        {"qstatic.pt", "qstatic"},
        {"qstatic_per_channel.pt", "qstatic_per_channel"},
        {"qdynamic.pt", "qdynamic"},
        {"qfrozen.pt", "qfrozen"},
        {"qeager.pt", "qeager"},
    };
    for (const auto& r : rows)
        QTest::newRow(r.file) << QString::fromLatin1(r.file) << QString::fromLatin1(r.truth);
}

void TestTorchKinds::matchesPython()
{
    QFETCH(QString, file);
    QFETCH(QString, truth);
    const QJsonObject t = readJson(kindsFixture(truth + QStringLiteral(".truth.json")));
    QVERIFY2(!t.isEmpty(), "truth file missing: run the fixtures_torchkinds test first");
    auto r = loadModel(kindsFixture(file));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& index = *r.value();
    QCOMPARE(modelFormatId(index.format), t.value(QStringLiteral("format")).toString());
    const QJsonArray entries = t.value(QStringLiteral("entries")).toArray();
    QStringList names;
    for (const auto& e : index.entries)
        names << QString::fromStdString(e.name);
    QStringList expected;
    for (const auto& v : entries)
        expected << v.toObject().value(QStringLiteral("name")).toString();
    QCOMPARE(names, expected);
    for (int i = 0; i < entries.size(); ++i) {
        const QJsonObject want = entries[i].toObject();
        const TensorEntry& e = index.entries[size_t(i)];
        const QByteArray where = e.name.c_str();
        QVERIFY2(QString::fromLatin1(tensorKindName(e.kind).data()) == want.value(QStringLiteral("kind")).toString(),
                 where + " kind " + tensorKindName(e.kind).data());
        const QString dtype = QString::fromLatin1(dtypeName(e.dtype).data());
        QVERIFY2(dtype == want.value(QStringLiteral("dtype")).toString(), where + " dtype " + dtype.toLatin1());
        QVERIFY2(e.shape == shapeOf(want.value(QStringLiteral("shape"))), where + " shape");
        if (want.value(QStringLiteral("values")).isNull())
            continue;  // a meta tensor (metaTensorHasNoData)
        const std::vector<double> got = valuesOf(index, i);
        const std::vector<double> wantValues = truthValues(want.value(QStringLiteral("values")).toArray());
        QVERIFY2(got.size() == wantValues.size(), where + " value count");
        for (size_t k = 0; k < got.size(); ++k) {
            // Quantized scales and zero points are float32 in PyTorch: compare to float precision.
            const double tol = dtypeIsQuantized(e.dtype) ? 1e-6 * std::max(1.0, std::fabs(wantValues[k])) : 0.0;
            QVERIFY2(std::fabs(got[k] - wantValues[k]) <= tol || (std::isnan(got[k]) && std::isnan(wantValues[k])),
                     where + " value " + QByteArray::number(qulonglong(k)) + ": " +
                         QByteArray::number(got[k], 'g', 17) + " vs " + QByteArray::number(wantValues[k], 'g', 17));
        }
    }
    for (const auto& s : t.value(QStringLiteral("skipped")).toArray())
        QVERIFY2(warned(index, QStringLiteral("'%1' skipped").arg(s.toString())), qPrintable(s.toString()));
}

void TestTorchKinds::numpyPickleProtocols_data()
{
    QTest::addColumn<int>("protocol");
    QTest::newRow("protocol 2 (_reconstruct + BUILD)") << 2;
    QTest::newRow("protocol 5 (_frombuffer)") << 5;
}

void TestTorchKinds::numpyPickleProtocols()
{
    // Element [i][j] of each array is i * 3 + j: C order float32, Fortran order big-endian
    // int16 (bytes in column order, each swapped), and a 0-d float64.
    QFETCH(int, protocol);
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON),
            {QStringLiteral("-c"),
             QStringLiteral("import sys, pickle, numpy as np\n"
                            "a = np.arange(6, dtype='<f4').reshape(2, 3)\n"
                            "f = np.asfortranarray(np.arange(6, dtype='>i2').reshape(2, 3))\n"
                            "sys.stdout.buffer.write(pickle.dumps({'a': a, 'f': f, 'z': np.array(7.25)}, protocol=%1))")
                 .arg(protocol)});
    QVERIFY(p.waitForFinished(60000));
    const QByteArray bytes = p.readAllStandardOutput();
    QVERIFY2(p.exitCode() == 0 && !bytes.isEmpty(), p.readAllStandardError().constData());
    auto doc = pickle::unpickle(reinterpret_cast<const std::uint8_t*>(bytes.constData()), std::size_t(bytes.size()));
    QVERIFY2(doc.ok(), qPrintable(doc.error()));
    QVERIFY(doc->warnings.empty());  // nothing refused: NumPy's names are read, never called
    for (const char* name : {"a", "f"}) {
        const pickle::Value* v = doc->root->get(name);
        QVERIFY(v && v->type == pickle::Value::Type::Tensor);
        const pickle::TensorRef& t = *v->tensor;
        QVERIFY2(t.error.empty(), t.error.c_str());
        QVERIFY(t.isArray);
        QCOMPARE(t.shape, (std::vector<std::int64_t>{2, 3}));
        const pickle::StorageRef& s = doc->storages[size_t(t.storage)];
        QVERIFY(s.isInline);
        QCOMPARE(s.numel, 6);
        const bool fortran = std::string_view(name) == "f";
        QCOMPARE(t.strides, fortran ? (std::vector<std::int64_t>{1, 2}) : (std::vector<std::int64_t>{3, 1}));
        QCOMPARE(*s.dtype, fortran ? DType::Int16 : DType::Float32);
        const auto* data = reinterpret_cast<const std::uint8_t*>(doc->inlineData[s.inlineIndex].data());
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j) {
                const std::int64_t k = i * t.strides[0] + j * t.strides[1];
                const double got = fortran ? at<std::int16_t>(data, k) : at<float>(data, k);
                QCOMPARE(got, double(i * 3 + j));
            }
    }
    const pickle::Value* z = doc->root->get("z");
    QVERIFY(z && z->type == pickle::Value::Type::Tensor && z->tensor->shape.empty());
    QCOMPARE(at<double>(reinterpret_cast<const std::uint8_t*>(
                            doc->inlineData[doc->storages[size_t(z->tensor->storage)].inlineIndex].data()),
                        0),
             7.25);
}

void TestTorchKinds::numpyScalarsAreMetadata()
{
    for (const char* file : {"numpy_ckpt", "numpy2_ckpt"}) {
        const QJsonObject t = readJson(kindsFixture(QString::fromLatin1(file) + QStringLiteral(".truth.json")));
        auto r = loadModel(kindsFixture(QString::fromLatin1(file) + QStringLiteral(".pt")));
        QVERIFY2(r.ok(), qPrintable(r.error()));
        const QJsonObject metadata = t.value(QStringLiteral("metadata")).toObject();
        QCOMPARE(metadata.size(), 2);
        for (auto it = metadata.begin(); it != metadata.end(); ++it) {
            bool found = false;
            for (const auto& m : r.value()->metadataEntries)
                if (QString::fromStdString(m.name) == it.key()) {
                    found = true;
                    QCOMPARE(QString::fromStdString(m.value).toDouble(), it.value().toDouble());
                }
            QVERIFY2(found, qPrintable(it.key()));
        }
        // No NumPy callable is reported as refused: all of them are read, none is called.
        for (const auto& w : r.value()->warnings)
            QVERIFY2(!w.contains(QStringLiteral("numpy")), qPrintable(w));
    }
}

void TestTorchKinds::metaTensorHasNoData()
{
    auto r = loadModel(kindsFixture(QStringLiteral("torch2.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const int i = r.value()->findEntry("meta");
    QVERIFY(i >= 0);
    QCOMPARE(r.value()->entries[size_t(i)].numel, 12);
    const auto v = r.value()->view(i);
    QVERIFY(!v.ok());
    QVERIFY2(v.error().contains(QStringLiteral("no data")), qPrintable(v.error()));
    QVERIFY(!r.value()->contiguousBytes(i).ok());
    QVERIFY(warned(*r.value(), QStringLiteral("'meta' is a meta tensor")));
    // The other tensors still read.
    QVERIFY(r.value()->view(r.value()->findEntry("tagged")).ok());
}

void TestTorchKinds::frozenModelSaysWhy()
{
    auto r = loadModel(kindsFixture(QStringLiteral("mobile_frozen.ptl")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QVERIFY(warned(*r.value(), QStringLiteral("unnamed constants")));
    auto plain = loadModel(kindsFixture(QStringLiteral("mobile.ptl")));
    QVERIFY2(plain.ok(), qPrintable(plain.error()));
    QVERIFY(!warned(*plain.value(), QStringLiteral("unnamed constants")));
}

void TestTorchKinds::quantizedNotCustomFormat()
{
    for (const char* f : {"qstatic.pt", "qstatic_per_channel.pt", "qdynamic.pt", "qeager.pt"}) {
        auto r = loadModel(kindsFixture(QString::fromLatin1(f)));
        QVERIFY2(r.ok(), qPrintable(r.error()));
        for (const auto& w : r.value()->warnings)
            QVERIFY2(!w.contains(QStringLiteral("custom format")), qPrintable(w));
    }
    auto pc = loadModel(kindsFixture(QStringLiteral("qstatic_per_channel.pt")));
    const int w = pc.value()->findEntry("conv.weight");
    QVERIFY(w >= 0);
    QVERIFY(pc.value()->entries[size_t(w)].qChannels());
    QCOMPARE(pc.value()->entries[size_t(w)].qChannels()->scales.size(), size_t(3));
}

void TestTorchKinds::badInputs_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("opens");
    QTest::addColumn<QString>("message");
    QTest::newRow("numpy data short")
        << "np_short_data.pt" << true
        << "'a' skipped: its NumPy data holds 23 bytes but shape [2, 3] of float32 needs 24";
    QTest::newRow("numpy bogus dtype") << "np_bogus_dtype.pt" << true << "'a' skipped: its NumPy dtype 'q9' is not";
    QTest::newRow("numpy dims overflow") << "np_dims_overflow.pt" << true
                                         << "'a' skipped: its NumPy shape's element count overflows";
    QTest::newRow("numpy pickle truncated") << "np_truncated.pt" << false << "data.pkl cannot be read";
    QTest::newRow("meta negative size") << "torch2_lying.pt" << true
                                        << "'meta_negative' skipped: it is a meta tensor with a negative size";
    QTest::newRow("sparse unknown layout")
        << "torch2_lying.pt" << true
        << "'sparse_unknown' skipped: it is a sparse tensor of layout torch.sparse_xyz, which ParamScope does not read";
    QTest::newRow("big endian") << "torch2_big_endian.pt" << false << "big-endian machine";
    QTest::newRow("format version future") << "torch2_format_future.pt" << false << ".format_version 99 is newer";
    QTest::newRow("format version text") << "torch2_format_text.pt" << false
                                         << ".format_version record is not a number ('one')";
    QTest::newRow("untyped odd bytes") << "torch2_lying.pt" << true
                                       << "'odd_bytes' skipped: its untyped storage holds 6 bytes, not a whole number "
                                          "of uint32 elements";
    QTest::newRow("v3 past its storage") << "torch2_lying.pt" << true
                                         << "'too_long' skipped: size [3], stride [1] and offset 0 need 3 elements";
}

void TestTorchKinds::badInputs()
{
    QFETCH(QString, file);
    QFETCH(bool, opens);
    QFETCH(QString, message);
    auto r = loadModel(kindsFixture(QStringLiteral("bad/") + file));
    if (!opens) {
        QVERIFY(!r.ok());
        QVERIFY2(r.error().contains(file) && r.error().contains(message), qPrintable(r.error()));
        return;
    }
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QVERIFY2(warned(*r.value(), message), qPrintable(r.value()->warnings.join(QLatin1Char('\n'))));
    // What is sound beside the lie still opens, with its values.
    const int ok = r.value()->findEntry("ok");
    QVERIFY(ok >= 0);
    const auto values = valuesOf(*r.value(), ok);
    QVERIFY(!values.empty());
    if (file.startsWith(QStringLiteral("np_")))
        QCOMPARE(values, (std::vector<double>{0, 1, 2}));
    else
        QCOMPARE(values, (std::vector<double>{5, 6}));
}

QTEST_GUILESS_MAIN(TestTorchKinds)
#include "tst_torchkinds.moc"
