#!/usr/bin/env python3
"""The layering check (scripts/check_layering.py) fails on each kind of violation and passes
on the real tree. Usage: test_check_layering.py SOURCE_DIR QT_INCLUDE_DIR"""
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
QT_INCLUDE = sys.argv[2] if len(sys.argv) > 2 else "/usr/include/x86_64-linux-gnu/qt6"
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "check_layering.py")


def run(root):
    p = subprocess.run([sys.executable, SCRIPT, root, "--qt-include", QT_INCLUDE],
                       capture_output=True, text=True)
    return p.returncode, p.stderr


def tree(files):
    d = tempfile.mkdtemp(prefix="layering-")
    for rel, text in files.items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
    return d


CLEAN = {
    "core/base/result.h": "#pragma once\n#include <QString>\n",
    "core/model/modeltree.cpp": '#include "model/modeltree.h"\n#include "base/result.h"\n',
    "core/formats/loader.cpp": '#include "formats/loader.h"\n#include "model/modelindex.h"\n#include <QtConcurrent/QtConcurrentRun>\n',
    "plugins/torch/loader.cpp": '#include "model/torchbackend.h"\n#include <torch/script.h>\n',
    "ui/mainwindow.cpp": '#include "ui/mainwindow.h"\n#include "session/modelsession.h"\n#include <QWidget>\n',
    "tests/tst_x.cpp": '#include "formats/zip/zipreader.h"\n#include <QWidget>\n#include "tst_x.moc"\n',
}


class LayeringCheck(unittest.TestCase):
    def test_clean_tree_passes(self):
        rc, err = run(tree(CLEAN))
        self.assertEqual(rc, 0, err)

    def expect_violation(self, rel, text, message):
        files = dict(CLEAN)
        files[rel] = text
        rc, err = run(tree(files))
        self.assertEqual(rc, 1, f"{rel} should fail the check")
        self.assertIn(message, err)

    def test_ui_including_a_format_reader_fails(self):
        self.expect_violation("ui/detailspanel.cpp", '#include "formats/safetensors/safetensorsreader.h"\n',
                              "ui/detailspanel.cpp:1: includes \"formats/safetensors/safetensorsreader.h\": ui/ may not use formats/")

    def test_core_including_qtwidgets_fails(self):
        self.expect_violation("core/stats/stats.cpp", "#include <QWidget>\n",
                              "core/stats/stats.cpp:1: includes <QWidget>: core/ is QtCore only")
        self.expect_violation("core/model/search.cpp", "#include <QtGui/QColor>\n",
                              "core/model/search.cpp:1: includes <QtGui/QColor>: core/ is QtCore only")

    def test_session_including_gui_fails(self):
        self.expect_violation("session/jobtracker.cpp", "#include <QPixmap>\n",
                              "session/jobtracker.cpp:1: includes <QPixmap>: session/ is QtCore only")

    def test_libtorch_outside_the_plugin_fails(self):
        self.expect_violation("core/formats/torch/torcharchive.cpp", "#include <torch/script.h>\n",
                              "core/formats/torch/torcharchive.cpp:1: includes <torch/script.h>: LibTorch only in plugins/torch/")

    def test_lower_layer_including_upper_fails(self):
        self.expect_violation("core/model/modelindex.cpp", '#include "stats/stats.h"\n',
                              "core/model/modelindex.cpp:1: includes \"stats/stats.h\": core/model/ may not use stats/")
        self.expect_violation("core/base/dtype.cpp", '#include "model/modelindex.h"\n',
                              "core/base/dtype.cpp:1: includes \"model/modelindex.h\": core/base/ may not use model/")
        self.expect_violation("plugins/torch/export_pt.cpp", '#include "export/export.h"\n',
                              "plugins/torch/export_pt.cpp:1: includes \"export/export.h\": plugins/torch/ may not use export/")

    def test_unqualified_project_include_fails(self):
        self.expect_violation("core/stats/stats.cpp", '#include "stats.h"\n',
                              'core/stats/stats.cpp:1: includes "stats.h": project includes are folder-qualified')

    def test_long_file_fails(self):
        self.expect_violation("core/export/big.cpp", "int x;\n" * 800,
                              "core/export/big.cpp:1: 801 lines, over the limit of 750")

    def test_real_tree_passes(self):
        rc, err = run(SOURCE_DIR)
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
