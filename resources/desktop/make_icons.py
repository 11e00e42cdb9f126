#!/usr/bin/env python3
"""Draws ParamScope's icon (the shapes of paramscope.svg) as PNGs of the hicolor sizes, with
NumPy and zlib only (no SVG renderer on the build machines):

    python3 resources/desktop/make_icons.py resources/desktop
"""
import os
import struct
import sys
import zlib

import numpy as np

# (kind, geometry, colour) in the SVG's 128x128 coordinates.
SHAPES = [("rrect", (8, 8, 112, 112, 20), "#263238")]
COLOURS = [["#4fc3f7", "#b40426", "#4fc3f7"], ["#f7f7f7", "#4fc3f7", "#3b4cc0"], ["#4fc3f7", "#f49a7b", "#8db0fe"]]
for r in range(3):
    for c in range(3):
        SHAPES.append(("rrect", (22 + 22 * c, 22 + 22 * r, 18, 18, 3), COLOURS[r][c]))
SHAPES.append(("ring", (80, 80, 24, 4), "#ffca28"))
SHAPES.append(("line", (97, 97, 114, 114, 5), "#ffca28"))


def rgb(h):
    return np.array([int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)], dtype=np.float64)


def coverage(kind, g, x, y):
    if kind == "rrect":
        x0, y0, w, h, rad = g
        qx = np.abs(x - (x0 + w / 2)) - (w / 2 - rad)
        qy = np.abs(y - (y0 + h / 2)) - (h / 2 - rad)
        d = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - rad
        return d <= 0
    if kind == "ring":
        cx, cy, r, half = g
        return np.abs(np.hypot(x - cx, y - cy) - r) <= half
    x0, y0, x1, y1, half = g
    t = np.clip(((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2), 0, 1)
    return np.hypot(x - (x0 + t * (x1 - x0)), y - (y0 + t * (y1 - y0))) <= half


def render(size, ss=4):
    n = size * ss
    coords = (np.arange(n) + 0.5) * 128.0 / n
    x, y = np.meshgrid(coords, coords)
    img = np.zeros((n, n, 4))
    for kind, g, colour in SHAPES:
        m = coverage(kind, g, x, y)
        img[m, :3] = rgb(colour)
        img[m, 3] = 255
    img = img.reshape(size, ss, size, ss, 4).mean(axis=(1, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_png(path, img):
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__)
    for size in (16, 32, 48, 64, 128, 256):
        write_png(os.path.join(out, f"paramscope-{size}.png"), render(size))


if __name__ == "__main__":
    main()
