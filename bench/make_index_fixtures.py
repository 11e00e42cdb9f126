#!/usr/bin/env python3
"""Writes the fixtures bench_index measures (into a temporary folder; never committed).

    /usr/bin/python3 bench/make_index_fixtures.py OUT_DIR

- t1m.pt: torch.save of a state dict of 1,000,000 one-element tensors
  ("m.layers.{i//10}.p{i%10}"), names1m.txt its names one a line.
- t100k.pt: the same with 100,000 tensors.
- sharded/: a sharded safetensors checkpoint of 160 shards x 600 one-element float32
  tensors with its model.safetensors.index.json (laid out with json + struct only).
Files that already exist are kept.
"""
import json
import os
import struct
import sys

import torch


def names(n):
    return [f"m.layers.{i // 10}.p{i % 10}" for i in range(n)]


def state_dict(path, n):
    if not os.path.exists(path):
        torch.save({k: torch.zeros(1) for k in names(n)}, path + ".tmp")
        os.replace(path + ".tmp", path)


def sharded(folder, shards=160, per=600):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        return
    os.makedirs(folder, exist_ok=True)
    weight_map = {}
    for s in range(shards):
        fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        header, offset = {}, 0
        for t in range(per):
            i = s * per + t
            name = f"model.layers.{i // 12}.mlp.w{i % 12}.weight"
            header[name] = {"dtype": "F32", "shape": [1], "data_offsets": [offset, offset + 4]}
            offset += 4
            weight_map[name] = fn
        header["__metadata__"] = {"format": "pt"}
        raw = json.dumps(header).encode()
        raw += b" " * (-len(raw) % 8)
        with open(os.path.join(folder, fn), "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            f.write(b"\0" * offset)
    with open(index + ".tmp", "w") as f:
        json.dump({"metadata": {"total_size": shards * per * 4}, "weight_map": weight_map}, f)
    os.replace(index + ".tmp", index)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    state_dict(os.path.join(out, "t1m.pt"), 1_000_000)
    with open(os.path.join(out, "names1m.txt"), "w") as f:
        f.write("\n".join(names(1_000_000)) + "\n")
    state_dict(os.path.join(out, "t100k.pt"), 100_000)
    sharded(os.path.join(out, "sharded"))


if __name__ == "__main__":
    main()
