"""A tiny PNG encoder (zlib + struct), so the package needs no imaging library."""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

_COLOR_TYPE = {1: 0, 3: 2, 4: 6}  # gray, RGB, RGBA


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(pixels: np.ndarray, level: int = 6) -> bytes:
    """Encode ``uint8`` pixels of shape H×W (gray), H×W×1, H×W×3 (RGB) or H×W×4 (RGBA)."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        raise TypeError(f"PNG pixels must be uint8, got dtype {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in _COLOR_TYPE:
        raise ValueError(f"PNG pixels must be H×W, H×W×1, H×W×3 or H×W×4; got shape {a.shape}")
    h, w, c = a.shape
    if h == 0 or w == 0:
        raise ValueError(f"cannot encode an empty image (shape {a.shape})")
    rows = np.ascontiguousarray(a).reshape(h, w * c)
    raw = np.empty((h, w * c + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type 0 (None) on every scanline
    raw[:, 1:] = rows
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPE[c], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
        + _chunk(b"IEND", b"")
    )
