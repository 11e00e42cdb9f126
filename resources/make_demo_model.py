#!/usr/bin/env python3
"""Writes demo_model.pt, the model ParamScope opens when no file is given.

A small but realistic network, written by real PyTorch as a TorchScript archive:
a convolutional stem with BatchNorm buffers, token and position embeddings, a few
transformer blocks with layer norms and q/k/v/out projections, a ModuleDict of task
heads, and an output projection tied to the token embedding.

    python3 resources/make_demo_model.py [OUT]   (default: resources/demo_model.pt)
"""
import os
import sys
from typing import Dict

import torch
import torch.nn as nn

VOCAB, DIM, HEADS, BLOCKS, CTX = 1000, 96, 4, 4, 128


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q = self.q_proj(x).view(b, t, h, d // h).transpose(1, 2)
        k = self.k_proj(x).view(b, t, h, d // h).transpose(1, 2)
        v = self.v_proj(x).view(b, t, h, d // h).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-2, -1) / (d // h) ** 0.5, dim=-1)
        return self.out_proj((att @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Stem(nn.Module):
    """A 1-D conv front end over token embeddings, with BatchNorm running statistics."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x.transpose(1, 2)))).transpose(1, 2)


class DemoLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.pos_embed = nn.Parameter(torch.randn(CTX, DIM) * 0.02)
        self.stem = Stem(DIM)
        self.layers = nn.ModuleList([Block(DIM, HEADS) for _ in range(BLOCKS)])
        self.norm = nn.LayerNorm(DIM)
        self.heads = nn.ModuleDict({"sentiment": nn.Linear(DIM, 3), "topic": nn.Linear(DIM, 20)})
        self.lm_head = nn.Linear(DIM, VOCAB, bias=False)
        self.lm_head.weight = self.embed.weight  # tied output weight
        self.register_buffer("attn_mask", torch.tril(torch.ones(CTX, CTX, dtype=torch.bool)))

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos_embed[: tokens.shape[1]]
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))

    @torch.jit.export
    def classify(self, tokens) -> Dict[str, torch.Tensor]:
        x = self.norm(self.stem(self.embed(tokens)))[:, 0]
        out: Dict[str, torch.Tensor] = {}
        for name, head in self.heads.items():
            out[name] = head(x)
        return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo_model.pt")
    torch.manual_seed(1234)
    model = DemoLM().eval()
    # Give the BatchNorm buffers realistic, non-default values.
    with torch.no_grad():
        model.stem(torch.randn(8, 32, DIM))
        model.stem.train()
        for _ in range(5):
            model.stem(torch.randn(8, 32, DIM))
        model.stem.eval()
    model.embed.weight.requires_grad_(True)
    scripted = torch.jit.script(model)
    scripted.save(out)
    n = sum(p.numel() for p in model.parameters())
    print(f"wrote {out}: {n} parameters, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
