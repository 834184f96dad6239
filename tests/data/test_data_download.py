"""Downloads into the cache: good, corrupted, cut, refused, cached; the folder and URL settings.

Every transfer goes to a loopback HTTP server the test starts on a free port of 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixture_files import LoopbackServer, md5, refused_url, sha256

from invwidgets.data import download as dl
from invwidgets.data.download import ChecksumError, DownloadError, RemoteFile, data_dir, fetch, file_url

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, several read blocks' worth with the tail


def _remote(checksum: str | None = None, algorithm: str = "sha256", name: str = "blob.bin") -> RemoteFile:
    return RemoteFile("toy", name, "http://publisher.invalid/files/", checksum or sha256(PAYLOAD), algorithm=algorithm)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for var in ("INVWIDGETS_DATA_DIR", "INVWIDGETS_DATA_URL", "INVWIDGETS_DATA_URL_TOY", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)


def test_good_download_is_verified_and_saved(tmp_path, monkeypatch):
    with LoopbackServer({"/toy/blob.bin": PAYLOAD}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        path = fetch(_remote(), tmp_path, progress=False)
    assert path == tmp_path / "toy" / "blob.bin"
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["/toy/blob.bin"]
    # only the file and its verification stamp: no temporary file left behind
    assert _leftovers(tmp_path / "toy") == ["blob.bin", "blob.bin.verified"]


def test_md5_is_checked_where_only_md5_is_published(tmp_path, monkeypatch):
    with LoopbackServer({"/toy/blob.bin": PAYLOAD, "/toy/blob2.bin": PAYLOAD}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        path = fetch(_remote(md5(PAYLOAD), "md5"), tmp_path, progress=False)
        assert path.read_bytes() == PAYLOAD
        with pytest.raises(ChecksumError, match="md5"):
            fetch(_remote(md5(b"other"), "md5", name="blob2.bin"), tmp_path, progress=False)


def test_checksum_mismatch_saves_nothing(tmp_path, monkeypatch):
    damaged = PAYLOAD[:-1] + b"\x00"
    with LoopbackServer({"/toy/blob.bin": damaged}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        with pytest.raises(ChecksumError) as err:
            fetch(_remote(), tmp_path, progress=False)
    msg = str(err.value)
    assert sha256(PAYLOAD) in msg and sha256(damaged) in msg and "nothing was saved" in msg
    assert _leftovers(tmp_path / "toy") == []


def test_transfer_cut_in_the_middle_saves_nothing_and_a_retry_succeeds(tmp_path, monkeypatch):
    with LoopbackServer({"/toy/blob.bin": PAYLOAD}, cut={"/toy/blob.bin"}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        with pytest.raises(DownloadError) as err:
            fetch(_remote(), tmp_path, progress=False)
        assert not isinstance(err.value, ChecksumError)  # caught by the length check first
        assert f"{len(PAYLOAD) // 2} of {len(PAYLOAD)} bytes" in str(err.value)
        assert _leftovers(tmp_path / "toy") == []
        server.cut.clear()
        path = fetch(_remote(), tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["/toy/blob.bin", "/toy/blob.bin"]


def test_no_network_names_file_url_and_where_to_put_it(tmp_path, monkeypatch):
    url = refused_url()
    monkeypatch.setenv("INVWIDGETS_DATA_URL", url)
    with pytest.raises(DownloadError) as err:
        fetch(_remote(), tmp_path, progress=False)
    msg = str(err.value)
    assert "blob.bin" in msg
    assert f"{url}/toy/blob.bin" in msg
    assert str(tmp_path / "toy" / "blob.bin") in msg
    assert sha256(PAYLOAD) in msg and "INVWIDGETS_DATA_DIR" in msg
    assert _leftovers(tmp_path / "toy") == []


def test_http_error_is_a_download_error(tmp_path, monkeypatch):
    with LoopbackServer({}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        with pytest.raises(DownloadError, match="Not Found"):
            fetch(_remote(), tmp_path, progress=False)
    assert _leftovers(tmp_path / "toy") == []


def test_second_call_is_served_from_the_cache(tmp_path, monkeypatch):
    with LoopbackServer({"/toy/blob.bin": PAYLOAD}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        first = fetch(_remote(), tmp_path, progress=False)
        second = fetch(_remote(), tmp_path, progress=False)
        third = fetch(_remote(), tmp_path, download=False)
    assert first == second == third
    assert server.requests == ["/toy/blob.bin"]


def test_cached_file_is_hashed_once_then_trusted_by_its_stamp(tmp_path, monkeypatch):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "blob.bin").write_bytes(PAYLOAD)  # put there by hand
    calls = []
    real = dl.file_digest
    monkeypatch.setattr(dl, "file_digest", lambda *a: calls.append(a) or real(*a))
    fetch(_remote(), tmp_path, download=False)
    fetch(_remote(), tmp_path, download=False)
    assert len(calls) == 1


def test_wrong_file_in_the_cache_is_reported_not_trusted(tmp_path):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "blob.bin").write_bytes(b"not the published file")
    with pytest.raises(ChecksumError, match="Delete it"):
        fetch(_remote(), tmp_path, download=False)
    # a changed file invalidates an old stamp
    (folder / "blob.bin").write_bytes(PAYLOAD)
    fetch(_remote(), tmp_path, download=False)
    (folder / "blob.bin").write_bytes(PAYLOAD[:-1] + b"\x01")
    os.utime(folder / "blob.bin", ns=(1, 1))
    with pytest.raises(ChecksumError):
        fetch(_remote(), tmp_path, download=False)


def test_missing_file_without_download_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        fetch(_remote(), tmp_path, download=False)
    assert "http://publisher.invalid/files/blob.bin" in str(err.value)
    assert str(tmp_path / "toy" / "blob.bin") in str(err.value)


def test_cache_folder_argument_then_environment_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "invwidgets" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert data_dir() == tmp_path / "home" / ".cache" / "invwidgets" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "invwidgets" / "data"
    monkeypatch.setenv("INVWIDGETS_DATA_DIR", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_url_overrides_per_dataset_before_global(monkeypatch):
    remote = _remote()
    assert file_url(remote) == "http://publisher.invalid/files/blob.bin"
    monkeypatch.setenv("INVWIDGETS_DATA_URL", "http://mirror.invalid/data/")
    assert file_url(remote) == "http://mirror.invalid/data/toy/blob.bin"
    monkeypatch.setenv("INVWIDGETS_DATA_URL_TOY", "http://toy.invalid/x")
    assert file_url(remote) == "http://toy.invalid/x/blob.bin"


def test_remote_file_rejects_bad_fields():
    with pytest.raises(ValueError, match="algorithm"):
        RemoteFile("toy", "a.bin", "http://x/", "00", algorithm="sha1")
    with pytest.raises(ValueError, match="plain file name"):
        RemoteFile("toy", "../a.bin", "http://x/", "00")


def test_interrupt_mid_transfer_leaves_nothing(tmp_path, monkeypatch):
    def interrupted(response, out, *args):
        out.write(response.read(1000))
        raise KeyboardInterrupt

    monkeypatch.setattr(dl, "_stream", interrupted)
    with LoopbackServer({"/toy/blob.bin": PAYLOAD}) as server:
        monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
        with pytest.raises(KeyboardInterrupt):
            fetch(_remote(), tmp_path, progress=False)
    assert _leftovers(tmp_path / "toy") == []
