#!/usr/bin/env python3
"""Writes the large models bench_open measures (never committed: generated on demand).

    /usr/bin/python3 scripts/make_big_model.py OUT_DIR [--small-only]

- big_ts_350m.pt: TorchScript, about 350 MB: a 20-block MLP stack (2048 wide) with layer
  norms and BatchNorm buffers.
- big_ts_3g.pt: TorchScript, about 2.7 GB, including one 2.6 GB embedding (a single zip
  entry above 2 GiB, so ZIP64 sizes are exercised).
- big_sv_4g.pt: torch.save state_dict, about 4.5 GB (archive above 4 GiB, ZIP64 offsets).
Files that already exist with the expected size are kept.
"""
import os
import sys

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim)
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, x):
        return self.bn(self.fc(self.norm(x)))


class Stack(nn.Module):
    def __init__(self, dim, blocks, vocab=0):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim) if vocab else nn.Identity()
        self.blocks = nn.ModuleList([Block(dim) for _ in range(blocks)])
        self.head = nn.Linear(dim, 16)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x)


def fill(model):
    # Uninitialised memory would be written as is; fill cheaply but not with zeros.
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.fill_(0.001 * (i + 1))
    return model


def write(path, make, min_bytes):
    if os.path.exists(path) and os.path.getsize(path) >= min_bytes:
        print("keeping", path, os.path.getsize(path))
        return
    print("writing", path, flush=True)
    make(path + ".tmp")
    os.replace(path + ".tmp", path)
    print("  ", os.path.getsize(path), "bytes")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    small_only = "--small-only" in sys.argv
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)

    write(os.path.join(out, "big_ts_350m.pt"),
          lambda p: torch.jit.script(fill(Stack(2048, 20)).eval()).save(p), 300 << 20)
    if small_only:
        return

    def ts3g(p):
        m = fill(Stack(1024, 24, vocab=640_000)).eval()  # 640000 x 1024 x 4 = 2.6 GB embedding
        torch.jit.script(m).save(p)
        del m

    write(os.path.join(out, "big_ts_3g.pt"), ts3g, 2600 << 20)

    def sv4g(p):
        sd = {f"layers.{i}.weight": torch.full((8192, 8192), float(i)) for i in range(16)}  # 16 x 256 MiB
        sd["embed.weight"] = torch.full((200_000, 1024), 0.5)  # 800 MB
        torch.save(sd, p)

    write(os.path.join(out, "big_sv_4g.pt"), sv4g, 4 << 30)


if __name__ == "__main__":
    main()
