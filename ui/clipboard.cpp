#include "ui/clipboard.h"

#include "base/textutil.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/snippet.h"

#include <QClipboard>
#include <QGuiApplication>

namespace paramscope {

bool copyNodeName(const ModelTree& tree, int node)
{
    if (node <= 0 || node >= tree.size())
        return false;
    // Not QString::fromUtf8: it drops a leading U+FEFF, and two names would look the same.
    QGuiApplication::clipboard()->setText(utf8ToQString(tree.node(node).fullName));
    return true;
}

bool copyNodeSnippet(const ModelIndex& index, const ModelTree& tree, int node)
{
    if (node <= 0 || node >= tree.size() || tree.node(node).entry < 0)
        return false;
    QGuiApplication::clipboard()->setText(pythonSnippet(index, tree.node(node).entry));
    return true;
}

}  // namespace paramscope
