// paramscope-cli heatmap FILE NAME -o OUT.png [--size WxH] [--clamp LOW,HIGH | --clamp minmax]
// [--pooling maxabs|mean] [--scale auto|diverging|sequential] [--slice ROWDIM,COLDIM[,i,j,...]]:
// the picture the window's heatmap shows, without a window (core/heatmap).
#include "cli/commandline_p.h"
#include "heatmap/heatmap.h"

#include <QFileInfo>

#include <cmath>

namespace paramscope::cli {

namespace {

bool parseSize(const QString& text, int* w, int* h)
{
    const QStringList p = text.toLower().split(QLatin1Char('x'));
    if (p.size() != 2)
        return false;
    bool ok1 = false, ok2 = false;
    *w = p[0].toInt(&ok1);
    *h = p[1].toInt(&ok2);
    return ok1 && ok2 && *w >= 1 && *h >= 1 && *w <= 16384 && *h <= 16384;
}

/// "p1,p99" or "0.01,0.99" or "minmax".
bool parseClamp(const QString& text, double* lo, double* hi)
{
    if (text == QLatin1String("minmax")) {
        *lo = 0;
        *hi = 1;
        return true;
    }
    const QStringList p = text.split(QLatin1Char(','));
    if (p.size() != 2)
        return false;
    auto one = [](QString s, double* out) {
        s = s.trimmed();
        const bool percentile = s.startsWith(QLatin1Char('p'));
        bool ok = false;
        double v = (percentile ? s.mid(1) : s).toDouble(&ok);
        if (percentile)
            v /= 100.0;
        *out = v;
        return ok && v >= 0 && v <= 1;
    };
    return one(p[0], lo) && one(p[1], hi) && *lo < *hi;
}

}  // namespace

int cmdHeatmap(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Render tensor NAME of FILE as a heatmap PNG: rows and columns as in the tensor (1-D: one row; N-D: "
        "dimension 0 x the rest, or --slice), reduced to the picture's size by max |x| pooling (each pixel the "
        "element of largest magnitude in its block, so outliers stay visible) or the mean; a diverging "
        "blue-white-red scale centred on 0, or viridis for non-negative data; colour limits clamped to the p1 and "
        "p99 of the cells by default; NaN magenta, +Inf dark red, -Inf dark blue."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("The tensor's full dotted name."));
    p.addOption(
        {{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("The PNG to write."), QStringLiteral("OUT")});
    p.addOption({QStringLiteral("size"),
                 QStringLiteral("Picture size, at most (default 1024x1024; a smaller matrix "
                                "keeps one pixel per element, scaled up to at least 256)."),
                 QStringLiteral("WxH")});
    p.addOption({QStringLiteral("clamp"),
                 QStringLiteral("Colour limits: two quantiles of the cells (p1,p99 — the default — or 0.05,0.95), or "
                                "'minmax'."),
                 QStringLiteral("LOW,HIGH")});
    p.addOption({QStringLiteral("pooling"), QStringLiteral("maxabs (default) or mean."), QStringLiteral("P")});
    p.addOption(
        {QStringLiteral("scale"), QStringLiteral("auto (default), diverging or sequential."), QStringLiteral("S")});
    p.addOption({QStringLiteral("slice"),
                 QStringLiteral("ROWDIM,COLDIM then an index for every dimension (those of ROWDIM and COLDIM "
                                "ignored): the 2-D slice shown, e.g. 0,1,0,0,1,2 for w[:, :, 1, 2]."),
                 QStringLiteral("DIMS")});
    addEngineOption(p);
    if (int rc = parse(p, "heatmap", args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 2) {
        err << "paramscope-cli heatmap: expected FILE and NAME (see --help)\n";
        return kExitUsage;
    }
    if (!p.isSet(QStringLiteral("output"))) {
        err << "paramscope-cli heatmap: give the PNG to write with -o OUT.png\n";
        return kExitUsage;
    }
    int width = 1024, height = 1024;
    if (p.isSet(QStringLiteral("size")) && !parseSize(p.value(QStringLiteral("size")), &width, &height)) {
        err << "paramscope-cli heatmap: --size takes WxH, each from 1 to 16384\n";
        return kExitUsage;
    }
    double lo = 0.01, hi = 0.99;
    if (p.isSet(QStringLiteral("clamp")) && !parseClamp(p.value(QStringLiteral("clamp")), &lo, &hi)) {
        err << "paramscope-cli heatmap: --clamp takes LOW,HIGH quantiles (p1,p99 or 0.01,0.99) or minmax\n";
        return kExitUsage;
    }
    HeatmapOptions o;
    o.width = width;
    o.height = height;
    const QString pooling = p.value(QStringLiteral("pooling"));
    if (pooling == QLatin1String("mean"))
        o.pooling = Pooling::Mean;
    else if (!pooling.isEmpty() && pooling != QLatin1String("maxabs")) {
        err << "paramscope-cli heatmap: --pooling takes maxabs or mean\n";
        return kExitUsage;
    }
    std::optional<ColorScale> scale;
    const QString sc = p.value(QStringLiteral("scale"));
    if (sc == QLatin1String("diverging"))
        scale = ColorScale::Diverging;
    else if (sc == QLatin1String("sequential"))
        scale = ColorScale::Sequential;
    else if (!sc.isEmpty() && sc != QLatin1String("auto")) {
        err << "paramscope-cli heatmap: --scale takes auto, diverging or sequential\n";
        return kExitUsage;
    }
    MatrixChoice choice;
    if (p.isSet(QStringLiteral("slice"))) {
        const QStringList parts = p.value(QStringLiteral("slice")).split(QLatin1Char(','));
        std::vector<std::int64_t> nums;
        for (const QString& s : parts) {
            bool ok = false;
            nums.push_back(s.trimmed().toLongLong(&ok));
            if (!ok) {
                err << "paramscope-cli heatmap: --slice takes whole numbers: ROWDIM,COLDIM,index,...\n";
                return kExitUsage;
            }
        }
        if (nums.size() < 2) {
            err << "paramscope-cli heatmap: --slice needs ROWDIM and COLDIM\n";
            return kExitUsage;
        }
        choice.rowDim = int(nums[0]);
        choice.colDim = int(nums[1]);
        choice.fixed.assign(nums.begin() + 2, nums.end());
    }

    const QString file = p.positionalArguments().at(0);
    const std::string name = p.positionalArguments().at(1).toStdString();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    const int entry = index->findEntry(name);
    if (entry < 0) {
        err << "paramscope-cli heatmap: no tensor named '" << shown(name) << "' in '"
            << shown(QFileInfo(file).fileName()) << "' (see 'paramscope-cli list')\n";
        return kExitError;
    }
    auto view = index->view(entry);
    if (!view) {
        err << "paramscope-cli heatmap: " << shown(view.error()) << "\n";
        return kExitError;
    }
    auto matrix = matrixOf(view.value(), choice);
    if (!matrix) {
        err << "paramscope-cli heatmap: '" << shown(name) << "': " << shown(matrix.error()) << "\n";
        return choice.rowDim >= 0 ? kExitUsage : kExitError;
    }
    auto h = reduceMatrix(matrix.value(), o);
    if (!h) {
        err << "paramscope-cli heatmap: '" << shown(name) << "': " << shown(h.error()) << "\n";
        return kExitError;
    }
    const ColorLimits limits = colorLimits(h.value(), lo, hi, scale);
    // One pixel per cell, scaled up by a whole factor so small matrices are not a speck.
    int factor = 1;
    while (std::max(h->width, h->height) * (factor + 1) <= 256)
        ++factor;
    const int pw = h->width * factor, ph = h->height * factor;
    const auto rgb = renderRgb(h.value(), limits, pw, ph);
    const QString outPath = p.value(QStringLiteral("output"));
    if (auto st = writePng(outPath, pw, ph, rgb); !st) {
        err << "paramscope-cli heatmap: " << shown(st.error()) << "\n";
        return kExitError;
    }
    out << "wrote " << shown(outPath) << ": " << pw << "x" << ph << " pixels, " << h->height << "x" << h->width
        << " cells of the " << h->rows << "x" << h->cols << " matrix ("
        << (o.pooling == Pooling::Mean ? "mean" : "max |x|") << " pooling), colours "
        << (limits.scale == ColorScale::Diverging ? "diverging" : "sequential") << " from "
        << QString::number(limits.low, 'g', 4) << " to " << QString::number(limits.high, 'g', 4) << "\n";
    return kExitOk;
}

}  // namespace paramscope::cli
