#pragma once

// QCustomPlot draws on white with black axes whatever the desktop's colours: these give a plot
// the palette's (its base colour behind, its text colour for axes, ticks, labels and grid), so
// light and dark themes both read, and follow a palette change.

class QCustomPlot;
class QPalette;

namespace paramscope {

/// Colours `plot` from `palette`.
void applyPalette(QCustomPlot* plot, const QPalette& palette);

}  // namespace paramscope
