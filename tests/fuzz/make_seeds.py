#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the fixtures that real PyTorch (and the
json + struct safetensors writer) wrote at test time.

    make_seeds.py FIXTURES_DIR OUT_DIR

OUT_DIR/<target>/ gets small inputs (file names are content hashes, so reruns do not
duplicate): zip: the archives, with big storage records cut to 256 bytes (still valid
zips); pickle: every data.pkl; safetensors: the files, and sharded indexes in the layout
fuzz_safetensors.cpp reads; model: whole .pt and .safetensors files; legacy: the legacy
torch.save and tar files (fixtures/legacy/, good and bad).
"""
import hashlib
import io
import json
import os
import struct
import sys
import zipfile

MAX_SEED = 64 * 1024
MAX_MODEL_SEED = 256 * 1024


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# Files made to reach the resource limits (tests/fixtures/make_limit_fixtures.py): a few KB
# that legitimately take up to ~1.3 GB, past the fuzzers' 2 GB budget once ASan's overhead
# is added. tst_limits runs them under address-space limits instead.
SKIP_DIRS = {"limits"}
# An archive whose members inflate past this is a resource test, not a seed: the memo attack
# (attack/memo.pt, 130 KB holding a 128 MB pickle of 67M MARK/POP_MARK pairs) takes ~45 s
# per run under ASan, past libFuzzer's 10 s timeout, and would teach the fuzzer nothing
# at 26 runs a second. tst_robustness opens it in both builds.
MAX_INFLATED_SEED = 16 << 20


def inflated_size(data):
    try:
        return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except Exception:
        return 0


def files(root, suffixes):
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for n in sorted(names):
            if n.endswith(suffixes):
                yield os.path.join(dirpath, n)


def shrink_archive(data):
    """The same zip with every member above 256 bytes cut to 256 (data records mostly)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if len(body) > 256 and not info.filename.endswith(".pkl"):
                body = body[:256]
            dst.writestr(info.filename, body)
    return buf.getvalue()


def safetensors_names(data):
    try:
        (n,) = struct.unpack_from("<Q", data, 0)
        header = json.loads(data[8:8 + n])
        return [k for k in header if k != "__metadata__"]
    except Exception:
        return None


def main():
    fixtures, out = sys.argv[1], sys.argv[2]
    count = 0
    for path in files(fixtures, (".pt", ".pth", ".ptl")):
        data = open(path, "rb").read()
        if len(data) <= MAX_MODEL_SEED and inflated_size(data) <= MAX_INFLATED_SEED:
            put(out, "model", data)
        if os.sep + "legacy" + os.sep in path and len(data) <= MAX_SEED:
            put(out, "legacy", data)
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            pkls = [i for i in z.infolist() if i.filename.endswith("data.pkl")]
            for i in pkls:
                if i.file_size <= MAX_SEED:
                    put(out, "pickle", z.read(i))
            small = shrink_archive(data)
        except Exception:  # a bad fixture: as it is
            small = data
        if len(small) <= MAX_SEED:
            put(out, "zip", small)
        count += 1
    for path in files(fixtures, (".safetensors",)):
        data = open(path, "rb").read()
        if len(data) > MAX_SEED:
            continue
        put(out, "safetensors", data)
        put(out, "model", data)
        names = safetensors_names(data)
        if names:
            index = {"metadata": {"total_size": len(data)},
                     "weight_map": {n: "fuzz.safetensors" for n in names}}
            put(out, "safetensors", json.dumps(index).encode() + b"\n--shard--\n" + data)
        count += 1
    for path in files(fixtures, (".index.json",)):
        data = open(path, "rb").read()
        if len(data) <= MAX_SEED:
            put(out, "safetensors", data)
    good = {"metadata": {}, "weight_map": {"a": "good.safetensors", "b.c": "good.safetensors"}}
    put(out, "safetensors", json.dumps(good).encode())
    print(f"seeds from {count} fixtures in {out}:",
          ", ".join(f"{t} {len(os.listdir(os.path.join(out, t)))}" for t in sorted(os.listdir(out))))


if __name__ == "__main__":
    main()
