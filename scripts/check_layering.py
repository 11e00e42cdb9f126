#!/usr/bin/env python3
"""Checks ParamScope's layering (docs/ARCHITECTURE.md); the build runs it before compiling.

Every project header a source includes must come from a layer its folder may use, core and
session code may include no QtGui/QtWidgets/QCustomPlot header, only plugins/torch may
include LibTorch, and no source file is longer than the line limit. Prints each violation
as file:line: message and exits 1 when there is any.

    check_layering.py SOURCE_DIR [--qt-include DIR] [--max-lines N]
"""
import argparse
import os
import re
import sys

# Folder of the including file -> project layers it may include (folders below the
# include roots: core/ for the core libraries, the source root for the rest).
LAYERS = {
    "core/base": {"base"},
    "core/model": {"base", "model"},
    "core/formats": {"base", "model", "formats"},
    "core/stats": {"base", "model", "stats"},
    "core/export": {"base", "model", "export"},
    "core/scan": {"base", "model", "stats", "scan"},
    "core/diff": {"base", "model", "stats", "diff"},
    "core/heatmap": {"base", "model", "stats", "heatmap"},
    "plugins/torch": {"base", "model", "plugins/torch"},
    "cli": {"base", "model", "formats", "stats", "export", "scan", "cli", "diff", "heatmap"},
    "session": {"base", "model", "formats", "stats", "export", "scan", "session", "diff", "heatmap"},
    "ui": {"base", "model", "stats", "export", "scan", "session", "ui", "diff", "heatmap"},
    "tools": {"base", "model", "stats", "export", "scan", "session", "ui", "tools", "diff", "heatmap"},
    "app": {"base", "model", "formats", "stats", "export", "scan", "session", "ui", "cli", "app", "diff", "heatmap"},
}
# Folders whose code must not see a QtGui/QtWidgets type (no widget, no pixmap).
NO_GUI = ("core/", "session/", "cli/", "plugins/")
# The only folder that may include LibTorch.
TORCH_OK = ("plugins/torch/",)
TORCH_PREFIXES = ("torch/", "ATen/", "c10/", "caffe2/")
GUI_MODULES = ("QtGui", "QtWidgets", "QtPrintSupport", "QtOpenGL", "QtOpenGLWidgets", "QtSvg")
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of_include(name):
    """The layer a project include names: "model" for "model/modeltree.h"."""
    if name.startswith("plugins/torch/"):
        return "plugins/torch"
    return name.split("/", 1)[0] if "/" in name else None


def folder_rule(rel):
    for folder in sorted(LAYERS, key=len, reverse=True):
        if rel.startswith(folder + "/"):
            return folder
    return None


def gui_headers(qt_include):
    names = set()
    if not qt_include:
        return names
    for module in GUI_MODULES:
        d = os.path.join(qt_include, module)
        if os.path.isdir(d):
            names.update(os.listdir(d))
    return names


def check(root, qt_include=None, max_lines=750):
    gui = gui_headers(qt_include)
    problems = []
    project_layers = {"base", "model", "formats", "stats", "export", "scan", "diff", "heatmap", "plugins/torch",
                      "cli", "session", "ui", "tools", "app"}
    for top in ("core", "plugins", "cli", "session", "ui", "tools", "app"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                with open(path, encoding="utf-8", errors="replace") as fh:
                    lines = fh.read().split("\n")
                if len(lines) > max_lines:
                    problems.append(f"{rel}:1: {len(lines)} lines, over the limit of {max_lines}: split it")
                rule = folder_rule(rel)
                for no, line in enumerate(lines, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    quote, name = m.groups()
                    if quote == '"':
                        layer = layer_of_include(name)
                        if layer in project_layers and rule is not None and layer not in LAYERS[rule]:
                            problems.append(f'{rel}:{no}: includes "{name}": {rule}/ may not use {layer}/'
                                            f" (may use: {', '.join(sorted(LAYERS[rule]))})")
                        elif quote == '"' and "/" not in name and not name.endswith(".moc") and rule is not None:
                            problems.append(f'{rel}:{no}: includes "{name}": project includes are folder-qualified')
                    base = name.split("/", 1)[0]
                    if rel.startswith(NO_GUI) and (base in GUI_MODULES or name in gui
                                                   or name.lower().startswith("qcustomplot")):
                        problems.append(f"{rel}:{no}: includes <{name}>: {rel.split('/')[0]}/ is QtCore only (no QtGui/QtWidgets)")
                    if name.startswith(TORCH_PREFIXES) and not rel.startswith(TORCH_OK):
                        problems.append(f"{rel}:{no}: includes <{name}>: LibTorch only in plugins/torch/")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--qt-include", default=None)
    ap.add_argument("--max-lines", type=int, default=750)
    ap.add_argument("--stamp", default=None)
    a = ap.parse_args()
    problems = check(a.root, a.qt_include, a.max_lines)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"layering: {len(problems)} violation(s); see docs/ARCHITECTURE.md", file=sys.stderr)
        return 1
    if a.stamp:
        with open(a.stamp, "w") as fh:
            fh.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
