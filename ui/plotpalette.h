#pragma once

// Colours that follow the desktop's palette. QCustomPlot draws on white with black axes
// whatever the desktop's colours: applyPalette gives a plot the palette's (its base colour
// behind, its text colour for axes, ticks, labels and grid), so light and dark themes both
// read, and follow a palette change. The status colours (errors, warnings, diff statuses)
// have a light and a dark variant, chosen by the palette's lightness, each readable (WCAG
// contrast >= 4.5) on that palette's Base and Window.

#include <QColor>
#include <QString>

#include <functional>

class QCustomPlot;
class QPalette;
class QWidget;

namespace paramscope {

/// Colours `plot` from `palette`.
void applyPalette(QCustomPlot* plot, const QPalette& palette);

/// Whether `palette` is a dark one (its Base is darker than mid-grey).
bool isDark(const QPalette& palette);

/// The Fusion-style dark palette of paramscope-screenshot --dark and the dark-palette tests.
QPalette darkPalette();

/// A colour with a meaning, for text on the palette's Base or Window.
enum class Tone {
    Alert,    ///< errors: NaN/Inf, an invalid pattern, a failed comparison (red)
    Warning,  ///< other findings, a changed tensor (amber)
    Good,     ///< identical (green)
    Close,    ///< close (teal)
    Layout,   ///< dtype or shape changed (purple)
    Missing,  ///< only in one of the two files (blue)
};
QColor toneColor(const QPalette& palette, Tone tone);

/// The error banner's colours: its background, its text and its border line.
struct BannerColors {
    QColor background, text, border;
};
BannerColors errorBannerColors(const QPalette& palette);

/// Calls `onChange` whenever the application's palette changes (the desktop switching between
/// light and dark), for as long as `widget` lives.
void onPaletteChange(QWidget* widget, std::function<void()> onChange);
/// Gives `widget` the style sheet `make` builds from the application's palette, now and again
/// whenever that palette changes; a null `make` clears it and stops following.
void setPaletteStyleSheet(QWidget* widget, std::function<QString(const QPalette&)> make);

/// WCAG 2 relative luminance of `c` (0 black, 1 white) and the contrast ratio of two colours
/// (1 to 21; 4.5 is the minimum for body text).
double relativeLuminance(const QColor& c);
double contrastRatio(const QColor& a, const QColor& b);

}  // namespace paramscope
