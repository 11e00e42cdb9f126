// The heatmap's colours (a diverging blue-white-red scale centred on 0, viridis for
// non-negative data, NaN and ±Inf in colours of their own), the limits they span, the
// picture rendered cell by cell, and a small PNG writer (zlib, through QSaveFile).
#include "heatmap/heatmap.h"

#include <QSaveFile>

#include <zlib.h>

#include <algorithm>
#include <cmath>

namespace paramscope {

namespace {

struct Stop {
    double at;
    std::uint32_t rgb;
};

// Blue - white - red (after Moreland's cool-warm), and viridis, sampled at even steps.
constexpr Stop kDiverging[] = {{0.0, 0x3b4cc0}, {0.25, 0x8db0fe}, {0.5, 0xf7f7f7}, {0.75, 0xf49a7b}, {1.0, 0xb40426}};
constexpr Stop kViridis[] = {{0.0, 0x440154},   {0.125, 0x472d7b}, {0.25, 0x3b528b},
                             {0.375, 0x2c728e}, {0.5, 0x21918c},   {0.625, 0x28ae80},
                             {0.75, 0x5ec962},  {0.875, 0xaddc30}, {1.0, 0xfde725}};

template <size_t N>
std::uint32_t lerp(const Stop (&stops)[N], double t)
{
    t = std::clamp(t, 0.0, 1.0);
    size_t k = 1;
    while (k + 1 < N && stops[k].at < t)
        ++k;
    const Stop& a = stops[k - 1];
    const Stop& b = stops[k];
    const double f = (t - a.at) / (b.at - a.at);
    auto ch = [&](int shift) {
        const double x = double((a.rgb >> shift) & 0xff), y = double((b.rgb >> shift) & 0xff);
        return std::uint32_t(std::lround(x + (y - x) * f)) << shift;
    };
    return ch(16) | ch(8) | ch(0);
}

}  // namespace

std::vector<std::pair<double, std::uint32_t>> colorStops(ColorScale scale)
{
    std::vector<std::pair<double, std::uint32_t>> out;
    if (scale == ColorScale::Diverging)
        for (const Stop& s : kDiverging)
            out.emplace_back(s.at, s.rgb);
    else
        for (const Stop& s : kViridis)
            out.emplace_back(s.at, s.rgb);
    return out;
}

ColorLimits colorLimits(const Heatmap& h, double clampLow, double clampHigh, std::optional<ColorScale> scale)
{
    ColorLimits l;
    if (!h.hasFinite)
        return l;
    double lo = clampLow > 0 ? h.quantile(clampLow) : h.min;
    double hi = clampHigh < 1 ? h.quantile(clampHigh) : h.max;
    l.scale = scale.value_or(h.min >= 0 ? ColorScale::Sequential : ColorScale::Diverging);
    // Quantiles that collapse (most cells equal, as in a sparse change) fall back to the
    // extremes, so the few cells that differ still show.
    if (l.scale == ColorScale::Diverging) {
        double m = std::max(std::abs(lo), std::abs(hi));
        if (!(m > 0))
            m = std::max(std::abs(h.min), std::abs(h.max));
        if (!(m > 0))
            m = 1;
        l.low = -m;
        l.high = m;
    } else {
        if (!(hi > lo)) {
            lo = h.min;
            hi = h.max;
        }
        if (!(hi > lo))
            hi = lo + 1;
        l.low = lo;
        l.high = hi;
    }
    return l;
}

std::uint32_t colorOf(double v, const ColorLimits& l)
{
    if (std::isnan(v))
        return kNaNColor;
    if (std::isinf(v))
        return v > 0 ? kPosInfColor : kNegInfColor;
    const double t = l.high > l.low ? (v - l.low) / (l.high - l.low) : 0.5;
    return l.scale == ColorScale::Diverging ? lerp(kDiverging, t) : lerp(kViridis, t);
}

std::uint32_t cellColor(const Heatmap& h, int i, int j, const ColorLimits& l)
{
    const std::uint8_t f = h.flag(i, j);
    if (f & Heatmap::kHasNaN)
        return kNaNColor;
    if (f & Heatmap::kHasPosInf)
        return kPosInfColor;
    if (f & Heatmap::kHasNegInf)
        return kNegInfColor;
    const double v = h.value(i, j);
    return std::isnan(v) ? kEmptyColor : colorOf(v, l);
}

std::vector<std::uint8_t> renderRgb(const Heatmap& h, const ColorLimits& l, int pw, int ph)
{
    std::vector<std::uint8_t> rgb(size_t(std::max(0, pw)) * size_t(std::max(0, ph)) * 3);
    if (h.width <= 0 || h.height <= 0)
        return rgb;
    std::vector<int> colCell(size_t(std::max(0, pw)));
    for (int x = 0; x < pw; ++x)
        colCell[size_t(x)] = int(std::int64_t(x) * h.width / pw);
    for (int y = 0; y < ph; ++y) {
        const int i = int(std::int64_t(y) * h.height / ph);
        std::uint8_t* row = &rgb[size_t(y) * size_t(pw) * 3];
        for (int x = 0; x < pw; ++x) {
            const std::uint32_t c = cellColor(h, i, colCell[size_t(x)], l);
            row[3 * x] = std::uint8_t(c >> 16);
            row[3 * x + 1] = std::uint8_t(c >> 8);
            row[3 * x + 2] = std::uint8_t(c);
        }
    }
    return rgb;
}

namespace {

void put32(QByteArray& out, std::uint32_t v)
{
    const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out.append(b, 4);
}

void chunk(QByteArray& out, const char type[4], const QByteArray& data)
{
    put32(out, std::uint32_t(data.size()));
    QByteArray body(type, 4);
    body += data;
    out += body;
    put32(out, std::uint32_t(::crc32(0, reinterpret_cast<const Bytef*>(body.constData()), uInt(body.size()))));
}

}  // namespace

Status writePng(const QString& path, int width, int height, const std::vector<std::uint8_t>& rgb)
{
    if (width <= 0 || height <= 0 || rgb.size() != size_t(width) * size_t(height) * 3)
        return Status::failure(QStringLiteral("no picture to write"));
    // Each row: filter type 0 (none), then its pixels.
    QByteArray raw;
    raw.reserve(int(size_t(height) * (size_t(width) * 3 + 1)));
    for (int y = 0; y < height; ++y) {
        raw.append('\0');
        raw.append(reinterpret_cast<const char*>(&rgb[size_t(y) * size_t(width) * 3]), width * 3);
    }
    uLongf packedSize = compressBound(uLong(raw.size()));
    QByteArray packed(int(packedSize), Qt::Uninitialized);
    if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packedSize, reinterpret_cast<const Bytef*>(raw.constData()),
                  uLong(raw.size()), 6) != Z_OK)
        return Status::failure(QStringLiteral("could not compress the picture"));
    packed.resize(int(packedSize));
    QByteArray png("\x89PNG\r\n\x1a\n", 8);
    QByteArray ihdr;
    put32(ihdr, std::uint32_t(width));
    put32(ihdr, std::uint32_t(height));
    ihdr.append("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, no filter set, no interlace
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", packed);
    chunk(png, "IEND", QByteArray());
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(png) != png.size() || !f.commit())
        return Status::failure(QStringLiteral("could not write '%1': %2").arg(path, f.errorString()));
    return {};
}

}  // namespace paramscope
