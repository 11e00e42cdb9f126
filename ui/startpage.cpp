#include "ui/startpage.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace paramscope {

StartPage::StartPage(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("emptyPage"));
    auto* v = new QVBoxLayout(this);
    v->addStretch(2);
    auto* title = new QLabel(tr("ParamScope"), this);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 2.2);
    tf.setBold(true);
    title->setFont(tf);
    title->setAlignment(Qt::AlignCenter);
    v->addWidget(title);
    auto* sub = new QLabel(tr("Browse and search the parameters of a PyTorch model file."), this);
    sub->setAlignment(Qt::AlignCenter);
    v->addWidget(sub);
    v->addSpacing(24);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    auto* open = new QPushButton(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open…"), this);
    open->setObjectName(QStringLiteral("emptyOpenButton"));
    auto* demo = new QPushButton(tr("Open demo model"), this);
    demo->setObjectName(QStringLiteral("emptyDemoButton"));
    for (auto* b : {open, demo}) {
        QFont bf = b->font();
        bf.setPointSizeF(bf.pointSizeF() * 1.3);
        b->setFont(bf);
        b->setMinimumSize(200, 48);
        buttons->addWidget(b);
    }
    buttons->addStretch(1);
    v->addLayout(buttons);
    v->addSpacing(16);
    auto* hint = new QLabel(tr("or drop a .pt file onto this window"), this);
    hint->setAlignment(Qt::AlignCenter);
    hint->setEnabled(false);
    v->addWidget(hint);
    v->addStretch(3);
    connect(open, &QPushButton::clicked, this, &StartPage::openRequested);
    connect(demo, &QPushButton::clicked, this, &StartPage::demoRequested);
}

}  // namespace paramscope
