"""Test helpers: a loopback HTTP server and writers of fixture files in the published layouts.

The writers build the bytes by hand (struct, tarfile, numpy.savez, h5py) from the format
specifications, independently of the parsers under test.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import struct
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# -- writers --------------------------------------------------------------------------------------
def idx_bytes(array: np.ndarray, compress: bool = True) -> bytes:
    """IDX file bytes: 0x00 0x00 <type> <ndim>, big-endian uint32 sizes, big-endian values."""
    arr = np.asarray(array)
    big = arr.astype(arr.dtype.newbyteorder(">")) if arr.dtype.itemsize > 1 else arr
    code = _IDX_CODES[np.dtype(big.dtype)]
    raw = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + big.tobytes(order="C")
    return gzip.compress(raw) if compress else raw


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR-10 binary records: per image one label byte, then R, G, B planes (1024 bytes each)."""
    out = bytearray()
    for img, lab in zip(images, labels):
        out.append(int(lab))
        for c in range(3):
            out += np.asarray(img[c], dtype=np.uint8).tobytes(order="C")
    return bytes(out)


def cifar_archive(batches: dict[str, bytes]) -> bytes:
    """A ``cifar-10-binary.tar.gz`` holding ``cifar-10-batches-bin/<name>`` for each batch."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        members = {"batches.meta.txt": b"airplane\nautomobile\n", **batches}
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def dsprites_arrays(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The first ``n`` entries of the dSprites grid: binary images and their latents."""
    rng = np.random.default_rng(seed)
    sizes = (1, 3, 6, 40, 32, 32)
    classes = np.stack(np.unravel_index(np.arange(n), sizes), axis=1).astype(np.int64)
    values = classes.astype(np.float64)
    values[:, 2] = 0.5 + classes[:, 2] * 0.1  # scale
    values[:, 3] = classes[:, 3] * (2 * np.pi / 39)  # orientation
    values[:, 4:] = classes[:, 4:] / 31.0  # positions
    imgs = (rng.random((n, 64, 64)) < 0.2).astype(np.uint8)
    return {"imgs": imgs, "latents_classes": classes, "latents_values": values}


def dsprites_npz(arrays: dict[str, np.ndarray], with_pickled_metadata: bool = True) -> bytes:
    """An ``.npz`` like the published one, compressed, with a pickled ``metadata`` entry."""
    buf = io.BytesIO()
    extra = {}
    if with_pickled_metadata:
        extra["metadata"] = np.array({"latents_sizes": np.array([1, 3, 6, 40, 32, 32])}, dtype=object)
    np.savez_compressed(buf, **arrays, **extra)
    return buf.getvalue()


def shapes3d_arrays(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The first ``n`` entries of the 3D-Shapes grid: uint8 images N×64×64×3, labels N×6."""
    rng = np.random.default_rng(seed)
    sizes = (10, 10, 10, 8, 4, 15)
    idx = np.stack(np.unravel_index(np.arange(n), sizes), axis=1)
    labels = np.stack(
        [idx[:, 0] / 10, idx[:, 1] / 10, idx[:, 2] / 10, 0.75 + idx[:, 3] * (0.5 / 7), idx[:, 4].astype(float), -30 + idx[:, 5] * (60 / 14)],
        axis=1,
    )
    images = rng.integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)
    return {"images": images, "labels": labels}


def shapes3d_h5(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """Write an HDF5 file with datasets ``images`` and ``labels`` (gzip-chunked) and return its bytes."""
    import h5py

    with h5py.File(path, "w") as fh:
        fh.create_dataset("images", data=arrays["images"], chunks=(4, 64, 64, 3), compression="gzip")
        fh.create_dataset("labels", data=arrays["labels"])
    return Path(path).read_bytes()


# -- the loopback server --------------------------------------------------------------------------
class LoopbackServer:
    """An HTTP server on 127.0.0.1 (a free port) serving ``files`` (URL path → bytes).

    Paths in ``cut`` announce their full length but send only half of the bytes, then close the
    connection. ``requests`` lists every path asked for. Use as a context manager.
    """

    def __init__(self, files: dict[str, bytes], cut: set[str] | None = None) -> None:
        self.files = dict(files)
        self.cut = set(cut or ())
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.path in server.cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=30)


def refused_url() -> str:
    """A loopback URL on a port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
