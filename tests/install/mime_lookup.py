#!/usr/bin/env python3
"""Resolves file names to MIME types from the globs2 files update-mime-database generates, as
the shared-mime-info specification's glob matching does (no display, no Qt): every glob of
every given mime/ folder that matches the name (case-insensitively unless flagged "cs"),
the highest weight wins, then the longest pattern; a tie between different types is
ambiguous (a desktop would pick either), printed as "?". One line per name: NAME TYPE.

    mime_lookup.py MIME_DIR [MIME_DIR...] -- NAME [NAME...]
"""
import fnmatch
import os
import sys


def read_globs(mime_dir):
    globs = []
    with open(os.path.join(mime_dir, "globs2"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split(":")
            weight, mime, pattern = int(fields[0]), fields[1], fields[2]
            flags = fields[3].split(",") if len(fields) > 3 else []
            globs.append((weight, mime, pattern, "cs" in flags))
    return globs


def lookup(globs, name):
    best = None  # (weight, length) -> set of types
    types = set()
    for weight, mime, pattern, case_sensitive in globs:
        if pattern == "__NOGLOBS__":
            continue
        if case_sensitive:
            hit = fnmatch.fnmatchcase(name, pattern)
        else:
            hit = fnmatch.fnmatchcase(name.lower(), pattern.lower())
        if not hit:
            continue
        key = (weight, len(pattern))
        if best is None or key > best:
            best, types = key, {mime}
        elif key == best:
            types.add(mime)
    if not types:
        return "-"
    return types.pop() if len(types) == 1 else "?"


def main(argv):
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    globs = [g for d in argv[1:split] for g in read_globs(d)]
    for name in argv[split + 1:]:
        print(name, lookup(globs, name))


if __name__ == "__main__":
    main(sys.argv)
