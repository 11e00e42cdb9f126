#!/usr/bin/env python3
"""Writes a multi-gigabyte safetensors checkpoint for bench_safetensors_open (never commit
its output).

    make_big_safetensors.py OUT_DIR [--layers N]

OUT_DIR/big.safetensors: a LLaMA-like float16 model (embeddings, N decoder layers with
attention and MLP projections and norms, lm_head); with the default 24 layers about
2.7 GB in ~220 tensors. OUT_DIR/sharded/: the same tensors split into 4 shards with a
model.safetensors.index.json. Laid out with json + struct + NumPy only.
"""
import argparse
import json
import os
import struct

import numpy as np

HIDDEN, FFN, VOCAB = 2048, 5632, 32000


def tensors(layers):
    yield "model.embed_tokens.weight", (VOCAB, HIDDEN)
    for i in range(layers):
        p = f"model.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            yield p + f"self_attn.{n}.weight", (HIDDEN, HIDDEN)
        yield p + "mlp.gate_proj.weight", (FFN, HIDDEN)
        yield p + "mlp.up_proj.weight", (FFN, HIDDEN)
        yield p + "mlp.down_proj.weight", (HIDDEN, FFN)
        yield p + "input_layernorm.weight", (HIDDEN,)
        yield p + "post_attention_layernorm.weight", (HIDDEN,)
    yield "model.norm.weight", (HIDDEN,)
    yield "lm_head.weight", (VOCAB, HIDDEN)


def write(path, items, noise):
    header, offset = {}, 0
    for name, shape in items:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, shape in items:
            left = int(np.prod(shape)) * 2
            while left:
                chunk = min(left, len(noise))
                f.write(noise[:chunk])
                left -= chunk
    return offset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=24)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "sharded"), exist_ok=True)
    # Real-looking float16 weights, reused chunk by chunk (generating GBs of noise is slow).
    noise = (np.random.default_rng(0).standard_normal(32 << 20) * 0.02).astype("<f2").tobytes()
    items = list(tensors(a.layers))
    total = write(os.path.join(a.out, "big.safetensors"), items, noise)
    shards, weight_map = 4, {}
    per = (len(items) + shards - 1) // shards
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = items[s * per:(s + 1) * per]
        write(os.path.join(a.out, "sharded", name), part, noise)
        weight_map.update({n: name for n, _ in part})
    with open(os.path.join(a.out, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    print(f"{len(items)} tensors, {total / 1e9:.2f} GB of data in {a.out}/big.safetensors and {a.out}/sharded/")


if __name__ == "__main__":
    main()
