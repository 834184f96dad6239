"""Fast versus naive PixelCNN sampling: speed ratio and agreement, from one run.

64 samples of a conditional gated PixelCNN (the default inversion architecture, conditioned on
an 8-dim vector) at the largest image size the package ships: 32×32 binary sprites. The fast
sampler computes the conditioning once, the vertical stack once per row, and the horizontal
stack on a window of its receptive field per pixel; the naive sampler re-runs the whole network
for every pixel. Both draw the same uniforms, so with the same seed they must give identical
samples. The weights are a seeded random initialisation (speed and agreement do not depend on
training).

Usage: python benchmarks/sampling.py [--size 32] [--n 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch

from invwidgets.data import sprites
from invwidgets.methods.inversion import DEFAULT_PIXELCNN
from invwidgets.models import init_parameters
from invwidgets.models.pixelcnn import GatedPixelCNN


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = sprites(size=args.size)
    model = GatedPixelCNN(in_channels=1, image_size=args.size, levels=int(data.levels), cond_shape=[8],
                          **DEFAULT_PIXELCNN)
    init_parameters(model, 0).eval()
    h = torch.randn(args.n, 8, generator=torch.Generator().manual_seed(1))
    t0 = time.perf_counter()
    fast = model.sample(h=h, generator=torch.Generator().manual_seed(2), method="fast")
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = model.sample(h=h, generator=torch.Generator().manual_seed(2), method="naive")
    t_naive = time.perf_counter() - t0
    agree = torch.equal(fast, naive)
    print(f"{args.n} samples of {args.size}x{args.size} ({data.levels} levels), {args.threads} thread(s), "
          f"model {DEFAULT_PIXELCNN}")
    print(f"naive {t_naive:.2f} s   fast {t_fast:.2f} s   speed-up {t_naive / t_fast:.1f}x")
    print(f"agreement (same seed, identical samples): {agree}; "
          f"differing sub-pixels: {int((fast != naive).sum())} of {fast.numel()}")
    if not agree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
