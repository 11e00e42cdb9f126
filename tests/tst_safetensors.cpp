// The native safetensors reader against files laid out independently by
// fixtures/make_safetensors_fixtures.py (json + struct + NumPy, no safetensors package),
// sharded checkpoints, malformed and lying headers, and files cut short while mapped.
#include "formats/loader.h"
#include "formats/sniff.h"
#include "testutil.h"

#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString st(const QString& name)
{
    return fixture(QStringLiteral("safetensors/") + name);
}

/// The elements as the fixture script writes them: integers in decimal, bool as 0/1.
/// Floating values are compared as doubles (see sameFloat), so they come back as text
/// only for the message.
QStringList integerTexts(DType t, const std::uint8_t* p, std::int64_t numel)
{
    QStringList out;
    for (std::int64_t i = 0; i < numel; ++i) {
        switch (t) {
            case DType::Int8:
                out << QString::number(std::int8_t(p[i]));
                break;
            case DType::UInt8:
                out << QString::number(p[i]);
                break;
            case DType::Bool:
                out << QString::number(p[i] ? 1 : 0);
                break;
            case DType::Int16: {
                std::int16_t v;
                std::memcpy(&v, p + 2 * i, 2);
                out << QString::number(v);
                break;
            }
            case DType::UInt16: {
                std::uint16_t v;
                std::memcpy(&v, p + 2 * i, 2);
                out << QString::number(v);
                break;
            }
            case DType::Int32: {
                std::int32_t v;
                std::memcpy(&v, p + 4 * i, 4);
                out << QString::number(v);
                break;
            }
            case DType::UInt32: {
                std::uint32_t v;
                std::memcpy(&v, p + 4 * i, 4);
                out << QString::number(v);
                break;
            }
            case DType::Int64: {
                qint64 v;
                std::memcpy(&v, p + 8 * i, 8);
                out << QString::number(v);
                break;
            }
            case DType::UInt64: {
                quint64 v;
                std::memcpy(&v, p + 8 * i, 8);
                out << QString::number(v);
                break;
            }
            default:
                out << QStringLiteral("?");
        }
    }
    return out;
}

/// Python's repr of a float ("nan", "inf", "-0.0", "0.1") against a decoded value:
/// equal bit for bit in value, NaN-ness and the sign of zero.
bool sameFloat(const QString& want, double got)
{
    if (want == QLatin1String("nan"))
        return std::isnan(got);
    if (want == QLatin1String("inf"))
        return std::isinf(got) && got > 0;
    if (want == QLatin1String("-inf"))
        return std::isinf(got) && got < 0;
    bool ok = false;
    const double w = want.toDouble(&ok);
    return ok && w == got && std::signbit(w) == std::signbit(got);
}

}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesTruth_data();
    void matchesTruth();
    void foundByContent();
    void emptyFile();
    void unusualButValid();
    void specOnlyDtypeListedWithWarning();
    void zeroCopyViews();
    void badFiles_data();
    void badFiles();
    void shardWithUnlistedTensorWarns();
    void shardCopiesAreIgnored();
    void endBoundsCheck_data();
    void endBoundsCheck();
    void truncatedWhileOpen();
    void cancelled_data();
    void cancelled();
    void libTorchEngineIsNotUsed();
    void cliListJson_data();
    void cliListJson();
};

void TestSafetensors::matchesTruth_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("truthFile");
    QTest::addColumn<int>("format");
    QTest::newRow("every dtype") << "all_dtypes.safetensors"
                                 << "all_dtypes.json" << int(ModelFormat::Safetensors);
    QTest::newRow("sharded") << "sharded/model.safetensors.index.json"
                             << "sharded.json" << int(ModelFormat::ShardedSafetensors);
    // The same checkpoint, its index's names (and one shard's) written with \u escapes.
    QTest::newRow("sharded, escaped names") << "sharded_escaped/model.safetensors.index.json"
                                            << "sharded.json" << int(ModelFormat::ShardedSafetensors);
    // Nine shards: read by worker threads ahead of the one adding them, added in shard order.
    QTest::newRow("many shards") << "many_shards/model.safetensors.index.json"
                                 << "many_shards.json" << int(ModelFormat::ShardedSafetensors);
}

void TestSafetensors::matchesTruth()
{
    QFETCH(QString, file);
    QFETCH(QString, truthFile);
    QFETCH(int, format);
    const QJsonObject truth = readJson(st(truthFile));
    QVERIFY2(!truth.isEmpty(), "fixture truth missing: run the fixtures_safetensors test");
    const auto r = loadModel(st(file));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(int(idx.format), format);
    QCOMPARE(idx.engine, QStringLiteral("native"));
    QVERIFY2(idx.warnings.isEmpty(), qPrintable(idx.warnings.join(QLatin1Char('\n'))));

    const QJsonObject meta = truth.value(QStringLiteral("metadata")).toObject();
    QCOMPARE(idx.metadata.size(), meta.size());
    for (auto it = meta.begin(); it != meta.end(); ++it)
        QCOMPARE(idx.metadata.value(it.key()), it.value().toString());
    // The Metadata view's entries: a file's __metadata__ as `__metadata__.<key>` (str), a
    // shard index's own "metadata" as `metadata.<key>` with its JSON type.
    QCOMPARE(qsizetype(idx.metadataEntries.size()), meta.size());
    for (auto it = meta.begin(); it != meta.end(); ++it) {
        int found = 0;
        for (const MetadataEntry& m : idx.metadataEntries) {
            const QString name = QString::fromStdString(m.name);
            if (name != QStringLiteral("__metadata__.") + it.key() && name != QStringLiteral("metadata.") + it.key())
                continue;
            ++found;
            QCOMPARE(QString::fromStdString(m.value), it.value().toString());
            QCOMPARE(QString::fromStdString(m.type),
                     it.key() == QLatin1String("total_size") ? QStringLiteral("int") : QStringLiteral("str"));
        }
        QCOMPARE(found, 1);
    }
    // Each tensor's shard: the file weight_map names for it; a single file has none.
    const QJsonObject weightMap = format == int(ModelFormat::ShardedSafetensors)
                                      ? readJson(st(file)).value(QStringLiteral("weight_map")).toObject()
                                      : QJsonObject();
    for (const TensorEntry& e : idx.entries) {
        if (weightMap.isEmpty()) {
            QCOMPARE(e.sourceFile, -1);
            continue;
        }
        QVERIFY(e.sourceFile >= 0 && e.sourceFile < idx.sourceFiles.size());
        QCOMPARE(QFileInfo(idx.sourceFiles[e.sourceFile]).fileName(),
                 weightMap.value(QString::fromStdString(e.name)).toString());
    }

    const QJsonArray expected = truth.value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(idx.entries.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject x = expected[i].toObject();
        const TensorEntry& e = idx.entries[size_t(i)];
        const QString name = x.value(QStringLiteral("name")).toString();
        QCOMPARE(QString::fromStdString(e.name), name);
        const QByteArray where = name.toUtf8();
        QCOMPARE(e.kind, TensorKind::Tensor);
        QCOMPARE(QString::fromLatin1(dtypeName(e.dtype).data()), x.value(QStringLiteral("dtype")).toString());
        std::vector<std::int64_t> shape;
        for (const auto& v : x.value(QStringLiteral("shape")).toArray())
            shape.push_back(v.toInteger());
        QVERIFY2(e.shape == shape, where.constData());
        QVERIFY2(e.strides == contiguousStrides(shape), where.constData());
        QCOMPARE(e.bytes, x.value(QStringLiteral("nbytes")).toInteger());
        QCOMPARE(e.sharedWith, -1);
        QCOMPARE(e.requiresGrad, false);

        const auto bytes = idx.contiguousBytes(i);
        QVERIFY2(bytes.ok(), qPrintable(bytes.error()));
        QCOMPARE(std::int64_t(bytes->size()), e.bytes);
        const QJsonArray values = x.value(QStringLiteral("values")).toArray();
        QStringList want;
        for (const auto& v : values)
            want << v.toString();
        if (dtypeIsFloating(e.dtype) || dtypeIsComplex(e.dtype)) {
            const auto got = decode(e.dtype, bytes->data(), e.numel);
            QCOMPARE(int(got.size()), want.size());
            for (size_t k = 0; k < got.size(); ++k)
                QVERIFY2(sameFloat(want[int(k)], got[k]),
                         qPrintable(QStringLiteral("%1[%2]: %3 != %4").arg(name).arg(k).arg(got[k]).arg(want[int(k)])));
        } else {
            QCOMPARE(integerTexts(e.dtype, bytes->data(), e.numel), want);
        }
    }
    // Every tensor is its own storage: totals add up all bytes.
    std::int64_t total = 0;
    for (const auto& x : expected)
        total += x.toObject().value(QStringLiteral("nbytes")).toInteger();
    QCOMPARE(idx.totals().bytes, total);
    QCOMPARE(idx.totals().tensors, std::int64_t(expected.size()));
}

void TestSafetensors::foundByContent()
{
    // all_dtypes.bin: the same bytes under a name that says nothing.
    const auto r = loadModel(st(QStringLiteral("all_dtypes.bin")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value()->format, ModelFormat::Safetensors);
    const auto truth = readJson(st(QStringLiteral("all_dtypes.json"))).value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(r.value()->entries.size()), truth.size());
    QVERIFY(detail::isSafetensorsFile(st(QStringLiteral("all_dtypes.bin"))));
    QVERIFY(!detail::isSafetensorsFile(fixture(QStringLiteral("seed.pt"))));
    QVERIFY(!detail::isSafetensorsFile(st(QStringLiteral("all_dtypes.json"))));
    // A PyTorch archive named .safetensors goes to the archive reader.
    QTemporaryDir dir;
    const QString misnamed = dir.filePath(QStringLiteral("seed.safetensors"));
    QVERIFY(QFile::copy(fixture(QStringLiteral("seed.pt")), misnamed));
    QVERIFY(!detail::isSafetensorsFile(misnamed));
    const auto archive = loadModel(misnamed);
    QVERIFY2(archive.ok(), qPrintable(archive.error()));
    QCOMPARE(archive.value()->format, ModelFormat::TorchScript);
}

void TestSafetensors::emptyFile()
{
    const auto r = loadModel(st(QStringLiteral("empty.safetensors")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(int(r.value()->entries.size()), 0);
    QCOMPARE(r.value()->metadata.value(QStringLiteral("format")), QStringLiteral("pt"));
}

void TestSafetensors::unusualButValid()
{
    // An escaped name (decoded), an unknown field (ignored), a null __metadata__, no padding.
    const auto r = loadModel(st(QStringLiteral("unusual.safetensors")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(int(idx.entries.size()), 1);
    QCOMPARE(QString::fromStdString(idx.entries[0].name), QStringLiteral("caf\u00e9.w\"q\""));
    QCOMPARE(idx.entries[0].shape, (std::vector<std::int64_t>{2}));
    QVERIFY(idx.metadata.isEmpty());
    const auto bytes = idx.contiguousBytes(0);
    QVERIFY(bytes.ok());
    QCOMPARE(decode(DType::Float32, bytes->data(), 2), (std::vector<double>{0.5, -4.0}));
}

void TestSafetensors::specOnlyDtypeListedWithWarning()
{
    const auto r = loadModel(st(QStringLiteral("spec_only_dtype.safetensors")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(int(idx.entries.size()), 3);
    QCOMPARE(idx.entries[1].name, std::string("mxfp4.blocks"));
    QCOMPARE(idx.entries[1].dtype, DType::Unknown);
    QCOMPARE(idx.entries[1].bytes, std::int64_t(2));  // 4 elements of 4 bits
    QCOMPARE(idx.entries[1].numel, std::int64_t(4));
    QCOMPARE(idx.warnings.size(), 2);
    QVERIFY2(idx.warnings[0].contains(QStringLiteral("F4")) || idx.warnings[1].contains(QStringLiteral("F4")),
             qPrintable(idx.warnings.join(QLatin1Char('\n'))));
    QVERIFY(!idx.view(1).ok());  // no values for a dtype ParamScope cannot show
    const auto plain = idx.contiguousBytes(0);
    QVERIFY(plain.ok());
    QCOMPARE(decode(DType::Float32, plain->data(), 2), (std::vector<double>{1.0, 2.0}));
}

void TestSafetensors::zeroCopyViews()
{
    // Tensor bytes are slices of one mapping of the file, at the offsets the header gives:
    // the header length (first 8 bytes) + 8 + data_offsets[0].
    const QString path = st(QStringLiteral("all_dtypes.safetensors"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray file = f.readAll();
    quint64 headerLength = 0;
    std::memcpy(&headerLength, file.constData(), 8);
    const QJsonObject header = QJsonDocument::fromJson(file.mid(8, qsizetype(headerLength))).object();

    const auto r = loadModel(path);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    const auto first = idx.view(0);
    QVERIFY(first.ok());
    const std::uint8_t* base = first->storage.data - (8 + headerLength +
                                                      quint64(header.value(QString::fromStdString(idx.entries[0].name))
                                                                  .toObject()
                                                                  .value(QStringLiteral("data_offsets"))
                                                                  .toArray()
                                                                  .at(0)
                                                                  .toInteger()));
    for (int i = 0; i < int(idx.entries.size()); ++i) {
        const auto v = idx.view(i);
        QVERIFY2(v.ok(), qPrintable(v.error()));
        const QJsonArray off = header.value(QString::fromStdString(idx.entries[size_t(i)].name))
                                   .toObject()
                                   .value(QStringLiteral("data_offsets"))
                                   .toArray();
        QCOMPARE(v->storage.data, base + 8 + headerLength + quint64(off.at(0).toInteger()));
        QCOMPARE(v->storage.size, quint64(off.at(1).toInteger() - off.at(0).toInteger()));
        QCOMPARE(v->storage.owner.get(), first->storage.owner.get());  // one mapping, shared
        // And the mapped bytes are the file's bytes.
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(v->storage.data), qsizetype(v->storage.size)),
                 file.mid(qsizetype(8 + headerLength + quint64(off.at(0).toInteger())), qsizetype(v->storage.size)));
    }
}

void TestSafetensors::badFiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");  // the specific problem, as the message states it
    // Header length.
    QTest::newRow("shorter than 8 bytes") << "bad/too_short.safetensors"
                                          << "only 3 bytes long";
    QTest::newRow("header length 0") << "bad/header_zero.safetensors"
                                     << "header length 0 is too short";
    QTest::newRow("header past end") << "bad/header_past_end.safetensors"
                                     << "header length 1061 is larger than the rest of the file (72 bytes)";
    QTest::newRow("header above limit") << "bad/header_above_limit.safetensors"
                                        << "header length 200000000 is above the limit of 100000000 bytes";
    QTest::newRow("header length 2^64-1") << "bad/header_huge.safetensors"
                                          << "header length 18446744073709551615 is above the limit";
    // Text.
    QTest::newRow("invalid JSON") << "bad/invalid_json.safetensors"
                                  << "the header is not valid JSON";
    QTest::newRow("invalid UTF-8") << "bad/invalid_utf8.safetensors"
                                   << "the header is not valid UTF-8 (byte 3";
    QTest::newRow("overlong UTF-8") << "bad/overlong_utf8.safetensors"
                                    << "the header is not valid UTF-8 (byte 3";
    QTest::newRow("not an object") << "bad/not_object.safetensors"
                                   << "the header is not a JSON object";
    QTest::newRow("tensor not an object") << "bad/tensor_not_object.safetensors"
                                          << "tensor 'a' is 5, not an object with dtype, shape and data_offsets";
    QTest::newRow("metadata not strings") << "bad/metadata_not_strings.safetensors"
                                          << "'__metadata__' entry 'epoch' is 3, not a string";
    // Names.
    QTest::newRow("duplicate name") << "bad/duplicate_name.safetensors"
                                    << "the name 'a' appears twice in the header";
    QTest::newRow("duplicate escaped name") << "bad/duplicate_escaped_name.safetensors"
                                            << "the name 'ab' appears twice in the header";
    QTest::newRow("duplicate field") << "bad/duplicate_field.safetensors"
                                     << "'a' has the field 'dtype' twice";
    // dtype and shape.
    QTest::newRow("unknown dtype") << "bad/unknown_dtype.safetensors"
                                   << "tensor 'a' has the unknown dtype 'F128'";
    QTest::newRow("missing dtype") << "bad/missing_dtype.safetensors"
                                   << "tensor 'a' has no dtype string";
    QTest::newRow("negative shape") << "bad/negative_shape.safetensors"
                                    << "tensor 'a' has the invalid dimension -2";
    QTest::newRow("fractional shape") << "bad/fractional_shape.safetensors"
                                      << "tensor 'a' has the invalid dimension 2.5";
    QTest::newRow("element count overflow") << "bad/shape_overflow.safetensors"
                                            << "element count of its shape [4294967296, 4294967296, 16] overflows";
    QTest::newRow("byte size overflow") << "bad/bytes_overflow.safetensors"
                                        << "the byte size of its shape overflows";
    QTest::newRow("end-begin != numel*itemsize")
        << "bad/size_mismatch.safetensors"
        << "tensor 'a' has data_offsets [0, 8] spanning 8 bytes, but dtype F32 with shape [3] needs 12 bytes";
    // Offsets.
    QTest::newRow("out of bounds") << "bad/offsets_out_of_bounds.safetensors"
                                   << "tensor 'b' has data_offsets [8, 16] outside the data buffer (8 bytes)";
    QTest::newRow("offsets beyond 2^63") << "bad/offsets_huge.safetensors"
                                         << "tensor 'a' has invalid data_offsets";
    QTest::newRow("end before begin") << "bad/offsets_reversed.safetensors"
                                      << "tensor 'a' has data_offsets [8, 0] that end before they begin";
    QTest::newRow("offsets not a pair") << "bad/offsets_not_pair.safetensors"
                                        << "tensor 'a' has invalid data_offsets ([0])";
    QTest::newRow("overlap") << "bad/offsets_overlap.safetensors"
                             << "tensors 'a' (bytes 0 to 8) and 'b' (bytes 4 to 12) overlap";
    QTest::newRow("gap") << "bad/offsets_gap.safetensors"
                         << "bytes 8 to 12 of the data buffer belong to no tensor (a gap before 'b')";
    QTest::newRow("trailing bytes") << "bad/trailing_bytes.safetensors"
                                    << "the last 4 bytes of the data buffer (12 bytes) belong to no tensor";
    // JSON details.
    QTest::newRow("text after the object") << "bad/trailing_text.safetensors"
                                           << "the header is not valid JSON: unexpected text after the header object";
    QTest::newRow("lone surrogate escape")
        << "bad/lone_surrogate.safetensors"
        << "the header is not valid JSON: unpaired surrogate in a \\u escape at byte";
    QTest::newRow("control character") << "bad/control_char.safetensors"
                                       << "the header is not valid JSON: control character in a string at byte 3";
    QTest::newRow("deep nesting") << "bad/deep_nesting.safetensors"
                                  << "nesting deeper than 64 levels";
    // Sharded checkpoints: the message names the index and the shard.
    QTest::newRow("missing shard") << "bad/sharded/missing_shard/model.safetensors.index.json"
                                   << "shard 'model-00003-of-00003.safetensors' (5 tensors in weight_map) cannot be "
                                      "read: '%1/model-00003-of-00003.safetensors' does not exist";
    QTest::newRow("corrupt shard") << "bad/sharded/corrupt_shard/model.safetensors.index.json"
                                   << "shard 'model-00002-of-00003.safetensors' (5 tensors in weight_map) cannot be "
                                      "read: 'model-00002-of-00003.safetensors' is not a valid safetensors file: the "
                                      "header is not valid JSON";
    QTest::newRow("shard lacks a listed tensor")
        << "bad/sharded/missing_tensor/model.safetensors.index.json"
        << "weight_map puts 'model.layers.9.ghost.weight' in shard 'model-00001-of-00003.safetensors', but that shard "
           "does not contain it";
    QTest::newRow("shard outside the folder")
        << "bad/sharded/escaping_shard/model.safetensors.index.json"
        << "weight_map puts 'lm_head.weight' in '../../etc/passwd', which is not a file inside the index's folder";
    QTest::newRow("no weight_map") << "bad/sharded/no_weight_map/model.safetensors.index.json"
                                   << "it has no \"weight_map\" object";
    QTest::newRow("tensor listed twice") << "bad/sharded/duplicate_entry/model.safetensors.index.json"
                                         << "the tensor 'lm_head.weight' is listed twice in weight_map";
    QTest::newRow("tensor listed twice, once escaped") << "bad/sharded/duplicate_escaped/model.safetensors.index.json"
                                                       << "the tensor 'lm_head.weight' is listed twice in weight_map";
    // The first missing name in name order, whatever order weight_map lists them in.
    QTest::newRow("shard lacks three listed tensors")
        << "bad/sharded/missing_tensors/model.safetensors.index.json"
        << "weight_map puts 'aa.ghost' in shard 'model-00001-of-00003.safetensors', but that shard does not contain "
           "it (nor 2 other listed tensors)";
    QTest::newRow("shard that is no file name") << "bad/sharded/null_shard/model.safetensors.index.json"
                                                << "weight_map entry 'aa.w' is null, not a shard file name";
    // Shards 5 and 8 of 9 corrupt: shard 5 is named, however the threads took them.
    QTest::newRow("corrupt shards of many")
        << "bad/sharded/corrupt_of_many/model.safetensors.index.json"
        << "shard 'model-00005-of-00009.safetensors' (3 tensors in weight_map) cannot be read: "
           "'model-00005-of-00009.safetensors' is not a valid safetensors file: the header is not valid JSON";
}

void TestSafetensors::badFiles()
{
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const QString path = st(file);
    if (expected.contains(QLatin1String("%1")))
        expected = expected.arg(QFileInfo(path).absolutePath());
    const auto r = loadModel(path);
    QVERIFY2(!r.ok(), qPrintable(file));
    QVERIFY2(r.error().contains(QLatin1Char('\'') + QFileInfo(file).fileName() + QLatin1Char('\'')),
             qPrintable(r.error()));
    QVERIFY2(r.error().contains(expected), qPrintable(r.error()));
    QVERIFY2(!r.error().contains(QLatin1Char('\n')), qPrintable(r.error()));
}

void TestSafetensors::endBoundsCheck_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("message");  // the whole message: the end-bounds check's own
    QTest::newRow("end past the data") << "bad/offsets_end_past_data.safetensors"
                                       << "'offsets_end_past_data.safetensors' is not a valid safetensors file: tensor "
                                          "'a' has data_offsets [0, 16] outside the data buffer (8 bytes)";
    QTest::newRow("begin past the data") << "bad/offsets_begin_past_data.safetensors"
                                         << "'offsets_begin_past_data.safetensors' is not a valid safetensors file: "
                                            "tensor 'b' has data_offsets [16, 24] outside the data buffer (8 bytes)";
    QTest::newRow("second tensor past the data")
        << "bad/offsets_out_of_bounds.safetensors"
        << "'offsets_out_of_bounds.safetensors' is not a valid safetensors file: tensor 'b' has data_offsets [8, 16] "
           "outside the data buffer (8 bytes)";
}

void TestSafetensors::endBoundsCheck()
{
    // A tensor whose data_offsets end lies past the data buffer, with a size that matches
    // its dtype and shape: only the end-bounds check can name the problem (the tiling checks
    // would report a gap or "bytes left over" instead).
    QFETCH(QString, file);
    QFETCH(QString, message);
    const auto r = loadModel(st(file));
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), message);
    QCOMPARE(r.kind(), ErrorKind::Corrupt);
}

void TestSafetensors::shardWithUnlistedTensorWarns()
{
    // weight_map forgot model.norm.weight, which shard 3 holds: listed, with a warning.
    const auto r = loadModel(st(QStringLiteral("bad/sharded/extra_tensor/model.safetensors.index.json")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(idx.warnings.size(), 1);
    QVERIFY2(idx.warnings[0].contains(
                 QStringLiteral("Shard 'model-00003-of-00003.safetensors' holds 'model.norm.weight', which weight_map "
                                "does not list")),
             qPrintable(idx.warnings[0]));
    const auto truth = readJson(st(QStringLiteral("sharded.json"))).value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(idx.entries.size()), truth.size());
    QVERIFY(idx.findEntry("model.norm.weight") >= 0);
}

void TestSafetensors::shardCopiesAreIgnored()
{
    // Both shards hold 'b.y' (weight_map: the second) and 'd.w' (not listed): the first
    // shard's 'd.w' is listed with a warning, the other copies are left out with one each.
    const auto r = loadModel(st(QStringLiteral("shared_copies/model.safetensors.index.json")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    const QString first = QStringLiteral("model-00001-of-00002.safetensors");
    const QString second = QStringLiteral("model-00002-of-00002.safetensors");
    QCOMPARE(idx.warnings,
             (QStringList{QStringLiteral("Shard '%1' also holds 'b.y', which weight_map puts in '%2'; that copy is "
                                         "ignored")
                              .arg(first, second),
                          QStringLiteral("Shard '%1' holds 'd.w', which weight_map does not list").arg(first),
                          QStringLiteral("Shard '%1' also holds 'd.w', which weight_map puts in ''; that copy is "
                                         "ignored")
                              .arg(second)}));
    std::vector<std::string> names;
    for (const TensorEntry& e : idx.entries)
        names.push_back(e.name);
    QCOMPARE(names, (std::vector<std::string>{"a.x", "d.w", "b.y", "c.z"}));
    const auto value = [&](const char* name) {
        const auto bytes = idx.contiguousBytes(idx.findEntry(name));
        float v[2] = {};
        std::memcpy(v, bytes->data(), std::min<size_t>(bytes->size(), sizeof v));
        return std::vector<float>(v, v + bytes->size() / sizeof(float));
    };
    QCOMPARE(value("b.y"), (std::vector<float>{5.0f, 6.0f}));  // the second shard's
    QCOMPARE(value("d.w"), (std::vector<float>{3.0f}));        // the first shard's
    QCOMPARE(QFileInfo(idx.sourceFiles[idx.entries[2].sourceFile]).fileName(), second);
}

void TestSafetensors::truncatedWhileOpen()
{
    // A file cut short after it was mapped must give an error when a
    // tensor is read, not SIGBUS.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("cut.safetensors"));
    QVERIFY(QFile::copy(st(QStringLiteral("all_dtypes.safetensors")), path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const auto r = loadModel(path);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QVERIFY(r.value()->view(0).ok());
    QVERIFY(QFile::resize(path, 16));
    const auto v = r.value()->view(0);
    QVERIFY(!v.ok());
    QVERIFY2(v.error().contains(QStringLiteral("'cut.safetensors'")), qPrintable(v.error()));
    QVERIFY2(v.error().contains(QStringLiteral("truncated")), qPrintable(v.error()));
    QVERIFY2(v.error().contains(QStringLiteral("'embed.weight'")), qPrintable(v.error()));
}

void TestSafetensors::cancelled_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("single") << "all_dtypes.safetensors";
    QTest::newRow("sharded") << "sharded/model.safetensors.index.json";
}

void TestSafetensors::cancelled()
{
    QFETCH(QString, file);
    LoadOptions o;
    o.cancel = makeCancelToken();
    o.cancel->store(true);
    const auto r = loadModel(st(file), o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), cancelledMessage(st(file)));

    // Cancelling during the second shard stops before the third is read.
    if (file.contains(QLatin1String("sharded"))) {
        LoadOptions o2;
        o2.cancel = makeCancelToken();
        QStringList stages;
        o2.progress = [&](double, const QString& stage) {
            stages << stage;
            if (stage.contains(QLatin1String("model-00002")))
                o2.cancel->store(true);
        };
        const auto r2 = loadModel(st(file), o2);
        QVERIFY(!r2.ok());
        QCOMPARE(r2.error(), cancelledMessage(st(file)));
        QVERIFY2(!stages.join(QLatin1Char(' ')).contains(QLatin1String("model-00003")),
                 qPrintable(stages.join(QLatin1Char(' '))));
    }
}

void TestSafetensors::libTorchEngineIsNotUsed()
{
    // Auto and Native read safetensors natively; only an explicit LibTorch request goes to
    // LibTorch, which cannot read it and says so.
    for (auto engine : {LoaderEngine::Auto, LoaderEngine::Native}) {
        LoadOptions o;
        o.engine = engine;
        const auto r = loadModel(st(QStringLiteral("all_dtypes.safetensors")), o);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        QCOMPARE(r.value()->engine, QStringLiteral("native"));
    }
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    const auto r = loadModel(st(QStringLiteral("all_dtypes.safetensors")), o);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(QStringLiteral("'all_dtypes.safetensors'")), qPrintable(r.error()));
}

void TestSafetensors::cliListJson_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("truthFile");
    QTest::addColumn<QString>("format");
    QTest::newRow("single") << "all_dtypes.safetensors"
                            << "all_dtypes.json"
                            << "safetensors";
    QTest::newRow("sharded") << "sharded/model.safetensors.index.json"
                             << "sharded.json"
                             << "safetensors-sharded";
}

void TestSafetensors::cliListJson()
{
    QFETCH(QString, file);
    QFETCH(QString, truthFile);
    QFETCH(QString, format);
    const CliRun r = runCli({QStringLiteral("list"), st(file), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QJsonParseError err{};
    const QJsonObject out = QJsonDocument::fromJson(r.out.toUtf8(), &err).object();
    QVERIFY2(err.error == QJsonParseError::NoError, qPrintable(err.errorString() + QLatin1Char('\n') + r.out));
    QCOMPARE(out.value(QStringLiteral("format")).toString(), format);
    const QJsonArray entries = out.value(QStringLiteral("entries")).toArray();
    const QJsonArray truth = readJson(st(truthFile)).value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), truth.size());
    for (int i = 0; i < truth.size(); ++i) {
        const QJsonObject e = entries[i].toObject();
        const QJsonObject t = truth[i].toObject();
        QCOMPARE(e.value(QStringLiteral("name")).toString(), t.value(QStringLiteral("name")).toString());
        QCOMPARE(e.value(QStringLiteral("kind")).toString(), QStringLiteral("tensor"));
        QCOMPARE(e.value(QStringLiteral("dtype")).toString(), t.value(QStringLiteral("dtype")).toString());
        QCOMPARE(e.value(QStringLiteral("shape")).toArray(), t.value(QStringLiteral("shape")).toArray());
        QCOMPARE(e.value(QStringLiteral("bytes")).toInteger(), t.value(QStringLiteral("nbytes")).toInteger());
    }
    // A bad file: the message on stderr, a non-zero exit code.
    const CliRun bad = runCli({QStringLiteral("list"), st(QStringLiteral("bad/offsets_overlap.safetensors"))});
    QVERIFY(bad.code != 0);
    QVERIFY2(bad.err.contains(QStringLiteral("'offsets_overlap.safetensors' is not a valid safetensors file")),
             qPrintable(bad.err));
}

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
