#!/usr/bin/env python3
"""Writes B, a "fine-tuned" copy of model A for bench_diff (never committed):

    /usr/bin/python3 bench/make_diff_pair.py A.pt B.pt

B is A's state_dict (TorchScript archives are read with torch.jit.load) saved with
torch.save, with every tenth floating tensor perturbed by 1e-3 noise: a comparison across
two formats where most tensors are identical and some changed. Kept when B exists.
"""
import os
import sys

import torch


def main():
    src, dst = sys.argv[1], sys.argv[2]
    if os.path.exists(dst):
        print("keeping", dst)
        return
    try:
        sd = torch.jit.load(src).state_dict()
    except Exception:
        sd = torch.load(src, map_location="cpu")
        if isinstance(sd, torch.nn.Module):
            sd = sd.state_dict()
    g = torch.Generator().manual_seed(0)
    out = {}
    for i, (k, v) in enumerate(sd.items()):
        v = v.detach().clone()
        if v.is_floating_point() and i % 10 == 0:
            v += torch.randn(v.shape, generator=g, dtype=v.dtype) * 1e-3
        out[k] = v
    torch.save(out, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    print("wrote", dst, os.path.getsize(dst))


if __name__ == "__main__":
    main()
