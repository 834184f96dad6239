"""Fetch dataset files once into a per-user cache, verified and written atomically.

* :func:`data_dir` — the cache folder: the ``root`` argument, else ``$INVWIDGETS_DATA_DIR``, else
  ``$XDG_CACHE_HOME/invwidgets/data``, else ``~/.cache/invwidgets/data``. Each dataset gets its own
  subfolder (``<cache>/mnist/...``).
* :func:`file_url` — where a file is fetched from: the publisher's URL, unless
  ``$INVWIDGETS_DATA_URL_<DATASET>`` (a folder holding that dataset's files, e.g.
  ``INVWIDGETS_DATA_URL_MNIST``) or ``$INVWIDGETS_DATA_URL`` (a mirror with one subfolder per
  dataset: ``<mirror>/mnist/train-images-idx3-ubyte.gz``) says otherwise.
* :func:`fetch` — the local path of a verified file, downloading it first if needed.

A download streams into a temporary file in the destination folder while it is hashed, with a
tqdm progress bar; only a complete transfer whose checksum matches is renamed (``os.replace``,
atomic on one file system) to its final name. An interrupted, truncated or corrupted download
therefore never leaves a file under the name a later call looks for. A file present under that
name is checked once and remembered in a small ``<name>.verified`` stamp (digest, size and
modification time), so later calls do not hash large files again.

Checksums are the publishers' or the widely used loaders' published values. SHA-256 is used where
one is published; where only MD5 is published (the dSprites archive), MD5 is what is stored and
checked — it still detects truncated and corrupted transfers.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ChecksumError",
    "DownloadError",
    "RemoteFile",
    "data_dir",
    "fetch",
    "file_digest",
    "file_url",
    "local_path",
]

ENV_DIR = "INVWIDGETS_DATA_DIR"
ENV_URL = "INVWIDGETS_DATA_URL"
_ALGORITHMS = ("sha256", "md5")
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A dataset file could not be fetched (no network, refused, cut transfer, HTTP error)."""


class ChecksumError(DownloadError):
    """A dataset file does not have its published checksum."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file of a dataset.

    Attributes:
        dataset: short dataset name; the cache subfolder and the ``<DATASET>`` of the per-dataset
            URL variable (upper-cased).
        filename: the file's name, both at the source and in the cache.
        base_url: the publisher's folder URL; the file lives at ``base_url + filename``.
        checksum: the published hex digest of the file.
        algorithm: ``"sha256"``, or ``"md5"`` where only an MD5 digest is published.
        size: the published size in bytes, when known (checked after a download).
    """

    dataset: str
    filename: str
    base_url: str
    checksum: str
    algorithm: str = "sha256"
    size: int | None = None

    def __post_init__(self) -> None:
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(f"algorithm must be one of {_ALGORITHMS}, got {self.algorithm!r}")
        if not self.filename or "/" in self.filename or self.filename.startswith("."):
            raise ValueError(f"filename must be a plain file name, got {self.filename!r}")


def data_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``root``, else ``$INVWIDGETS_DATA_DIR``, else the per-user cache.

    The per-user cache is ``$XDG_CACHE_HOME/invwidgets/data`` when ``XDG_CACHE_HOME`` is set to an
    absolute path, else ``~/.cache/invwidgets/data``. The folder is not created here.
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "invwidgets" / "data"


def local_path(remote: RemoteFile, root: str | os.PathLike[str] | None = None) -> Path:
    """Where ``remote`` lives in the cache: ``data_dir(root) / dataset / filename``."""
    return data_dir(root) / remote.dataset / remote.filename


def _url_variable(dataset: str) -> str:
    return f"{ENV_URL}_{dataset.upper()}"


def file_url(remote: RemoteFile) -> str:
    """The URL ``remote`` is fetched from, after the ``INVWIDGETS_DATA_URL*`` overrides."""
    per_dataset = os.environ.get(_url_variable(remote.dataset))
    if per_dataset:
        return per_dataset.rstrip("/") + "/" + remote.filename
    mirror = os.environ.get(ENV_URL)
    if mirror:
        return f"{mirror.rstrip('/')}/{remote.dataset}/{remote.filename}"
    return remote.base_url + remote.filename


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _by_hand(remote: RemoteFile, path: Path, url: str) -> str:
    """The advice for fetching ``remote`` by hand."""
    return (
        f"Download {url} on a machine that can reach it and put it at\n  {path}\n"
        f"(its {remote.algorithm} must be {remote.checksum}); or set {ENV_DIR} to a folder that holds "
        f"{remote.dataset}/{remote.filename}, or {_url_variable(remote.dataset)} / {ENV_URL} to a mirror."
    )


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_text(remote: RemoteFile, path: Path) -> str:
    st = path.stat()
    return f"{remote.algorithm} {remote.checksum} {st.st_size} {st.st_mtime_ns}\n"


def _write_stamp(remote: RemoteFile, path: Path) -> None:
    """Remember that ``path`` was verified (written atomically; failure to write is harmless)."""
    with contextlib.suppress(OSError):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".stamp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(_stamp_text(remote, path))
            os.replace(tmp, _stamp_path(path))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _verify_cached(remote: RemoteFile, path: Path) -> None:
    """Check a file already in the cache (hashing it only when its stamp does not match).

    Raises:
        ChecksumError: if its digest is not the published one; the file is left in place (it may
            be one the user put there) and the message says to remove it.
    """
    stamp = _stamp_path(path)
    with contextlib.suppress(OSError):
        if stamp.read_text() == _stamp_text(remote, path):
            return
    digest = file_digest(path, remote.algorithm)
    if digest != remote.checksum:
        raise ChecksumError(
            f"{path} has {remote.algorithm} {digest}, but the published {remote.dataset} file "
            f"{remote.filename} has {remote.checksum}. Delete it (a later call downloads it again) or "
            f"replace it with the official file from {file_url(remote)}."
        )
    _write_stamp(remote, path)


def _progress_bar(total: int | None, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not enabled, leave=False)


def _stream(response, out, hasher, remote: RemoteFile, url: str, progress: bool) -> int:
    """Copy the HTTP body to ``out`` while hashing it; returns the byte count, checks the length."""
    length = response.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else remote.size
    received = 0
    with _progress_bar(expected, remote.filename, progress) as bar:
        while True:
            block = response.read(_CHUNK)
            if not block:
                break
            out.write(block)
            hasher.update(block)
            received += len(block)
            bar.update(len(block))
    if expected is not None and received != expected:
        raise DownloadError(f"transfer of {url} ended after {received} of {expected} bytes; nothing was saved")
    return received


def _download(remote: RemoteFile, path: Path, url: str, progress: bool, timeout: float) -> None:
    """Download ``url`` to a temporary file beside ``path``, verify it, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        hasher = hashlib.new(remote.algorithm)
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "invwidgets"})
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    _stream(response, out, hasher, remote, url, progress)
            except DownloadError:
                raise
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DownloadError(
                    f"could not download {remote.dataset} file {remote.filename} from {url}: {reason}.\n"
                    + _by_hand(remote, path, url)
                ) from exc
        digest = hasher.hexdigest()
        if digest != remote.checksum:
            raise ChecksumError(
                f"{url} has {remote.algorithm} {digest}, not the published {remote.checksum}; nothing was "
                f"saved. The server may be serving a different or damaged file.\n" + _by_hand(remote, path, url)
            )
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _write_stamp(remote, path)


def fetch(
    remote: RemoteFile,
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """The local path of ``remote``, verified; downloaded into the cache first if it is missing.

    Args:
        remote: the file to fetch.
        root: the cache folder (see :func:`data_dir`).
        download: when False a missing file is an error instead of a download.
        progress: show a tqdm progress bar while downloading.
        timeout: seconds to wait on the connection before giving up (per network operation).

    Raises:
        FileNotFoundError: if the file is missing and ``download`` is False.
        DownloadError: if the download fails (no network, connection refused, HTTP error, a
            transfer cut short); the message names the file, its URL and where to put it by hand.
        ChecksumError: if the downloaded or cached file does not have the published checksum.
    """
    path = local_path(remote, root)
    url = file_url(remote)
    if path.is_file():
        _verify_cached(remote, path)
        return path
    if not download:
        raise FileNotFoundError(
            f"{remote.dataset} file {remote.filename} is not in the cache and download=False.\n"
            + _by_hand(remote, path, url)
        )
    _download(remote, path, url, progress, timeout)
    return path
