#include "ui/plotpalette.h"

#include <qcustomplot.h>

#include <QPalette>

namespace paramscope {

void applyPalette(QCustomPlot* plot, const QPalette& palette)
{
    const QColor base = palette.color(QPalette::Base), text = palette.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(50);
    plot->setBackground(base);
    for (int r = 0; r < plot->axisRectCount(); ++r) {
        QCPAxisRect* rect = plot->axisRect(r);
        rect->setBackground(base);
        for (QCPAxis* axis : rect->axes()) {
            axis->setBasePen(QPen(text));
            axis->setTickPen(QPen(text));
            axis->setSubTickPen(QPen(text));
            axis->setTickLabelColor(text);
            axis->setLabelColor(text);
            axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
        }
    }
    for (int e = 0; e < plot->plotLayout()->elementCount(); ++e)
        if (auto* scale = qobject_cast<QCPColorScale*>(plot->plotLayout()->elementAt(e))) {
            QCPAxis* axis = scale->axis();
            axis->setBasePen(QPen(text));
            axis->setTickPen(QPen(text));
            axis->setSubTickPen(QPen(text));
            axis->setTickLabelColor(text);
            axis->setLabelColor(text);
        }
    plot->replot();
}

}  // namespace paramscope
