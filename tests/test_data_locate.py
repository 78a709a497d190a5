"""Finding data files, and downloading them, against a real local HTTP server."""

import functools
import hashlib
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rnnlab.data import cache_dir, download, locate
from rnnlab.errors import ChecksumError, DataNotFoundError

PAYLOAD = bytes(range(256)) * 1200  # ~300 KB: several read chunks, a real progress total
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def _downloads_allowed(monkeypatch):
    """These tests download from a local server, so the suite-wide offline switch is lifted."""
    monkeypatch.delenv("RNNLAB_OFFLINE", raising=False)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve ``tmp_path/www`` on 127.0.0.1; yields its base URL."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    (root / "data.bin").write_bytes(PAYLOAD)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(folder))
    monkeypatch.delenv("RNNLAB_DATA_DIR", raising=False)
    return folder


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- cache_dir ---------------------------------------------------------------------------


def test_cache_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit" and cache_dir().is_dir()
    monkeypatch.setenv("RNNLAB_CACHE_DIR", "")
    assert cache_dir() == tmp_path / "xdg" / "rnnlab" and cache_dir().is_dir()
    monkeypatch.delenv("RNNLAB_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "rnnlab"


# ---- locate ------------------------------------------------------------------------------


def test_explicit_path_wins(tmp_path, own_cache, monkeypatch):
    for folder in ("mine", "datadir"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "f.txt").write_text(folder)
    (own_cache / "f.txt").parent.mkdir(parents=True, exist_ok=True)
    (own_cache / "f.txt").write_text("cache")
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(tmp_path / "datadir"))
    assert locate("f.txt", tmp_path / "mine") == tmp_path / "mine" / "f.txt"  # a folder holding it
    assert locate("f.txt", tmp_path / "mine" / "f.txt") == tmp_path / "mine" / "f.txt"
    other = tmp_path / "mine" / "renamed.txt"
    other.write_text("x")
    assert locate("f.txt", str(other)) == other  # an explicit file need not have the usual name


def test_data_dir_then_cache(tmp_path, own_cache, monkeypatch):
    (tmp_path / "datadir").mkdir()
    own_cache.mkdir()
    (own_cache / "f.txt").write_text("cache")
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(tmp_path / "datadir"))
    assert locate("f.txt") == own_cache / "f.txt"
    (tmp_path / "datadir" / "f.txt").write_text("data")
    assert locate("f.txt") == tmp_path / "datadir" / "f.txt"
    monkeypatch.setenv("RNNLAB_DATA_DIR", "")  # empty means unset
    assert locate("f.txt") == own_cache / "f.txt"


def test_wrong_explicit_path_is_an_error_not_a_fallback(tmp_path, own_cache, monkeypatch):
    (tmp_path / "datadir").mkdir()
    (tmp_path / "datadir" / "f.txt").write_text("data")
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(tmp_path / "datadir"))
    with pytest.raises(DataNotFoundError, match="does not exist"):
        locate("f.txt", tmp_path / "typo")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="not in the folder"):
        locate("f.txt", tmp_path / "empty")


def test_missing_everywhere_lists_what_was_searched(tmp_path, own_cache, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(tmp_path / "datadir"))
    url = "http://example.invalid/f.txt"
    with pytest.raises(DataNotFoundError) as err:
        locate("f.txt", url=url, download_missing=False)
    message = str(err.value)
    assert str(tmp_path / "datadir" / "f.txt") in message
    assert str(own_cache / "f.txt") in message
    assert url in message and "RNNLAB_DATA_DIR" in message


def test_locate_downloads_into_the_cache_once(server, own_cache):
    path = locate("data.bin", url=f"{server}/data.bin", sha256=PAYLOAD_SHA)
    assert path == own_cache / "data.bin" and path.read_bytes() == PAYLOAD
    # Found in the cache now: the URL is not used again (this one would fail).
    assert locate("data.bin", url=f"http://127.0.0.1:{_closed_port()}/data.bin") == path


def test_locate_download_failure_is_one_message(server, own_cache):
    url = f"{server}/absent.bin"
    with pytest.raises(DataNotFoundError) as err:
        locate("absent.bin", url=url)
    message = str(err.value)
    assert str(own_cache / "absent.bin") in message and url in message and "404" in message
    assert list(own_cache.iterdir()) == []


def test_locate_checksum_mismatch_propagates(server, own_cache):
    with pytest.raises(ChecksumError):
        locate("data.bin", url=f"{server}/data.bin", sha256="0" * 64)
    assert list(own_cache.iterdir()) == []


# ---- download ----------------------------------------------------------------------------


def test_download_good_checksum(server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    assert download(f"{server}/data.bin", dest, PAYLOAD_SHA, progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert list(dest.parent.iterdir()) == [dest]


def test_download_accepts_any_of_several_digests(server, tmp_path):
    dest = tmp_path / "data.bin"
    download(f"{server}/data.bin", dest, ["f" * 64, PAYLOAD_SHA.upper()])
    assert dest.read_bytes() == PAYLOAD


def test_download_without_checksum(server, tmp_path):
    dest = tmp_path / "data.bin"
    download(f"{server}/data.bin", dest)
    assert dest.read_bytes() == PAYLOAD


def test_download_wrong_checksum_leaves_nothing(server, tmp_path):
    folder = tmp_path / "out"
    wrong = "ab" * 32
    with pytest.raises(ChecksumError) as err:
        download(f"{server}/data.bin", folder / "data.bin", wrong)
    assert wrong in str(err.value) and PAYLOAD_SHA in str(err.value)
    assert list(folder.iterdir()) == []  # no dest, no temp file


def test_download_keeps_an_existing_file_on_failure(server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(ChecksumError):
        download(f"{server}/data.bin", dest, "0" * 64)
    assert dest.read_bytes() == b"old" and list(dest.parent.iterdir()) == [dest]


@pytest.mark.parametrize("where", ["404", "refused"])
def test_download_network_failures(server, tmp_path, where):
    url = f"{server}/absent.bin" if where == "404" else f"http://127.0.0.1:{_closed_port()}/x.bin"
    dest = tmp_path / "out" / "x.bin"
    with pytest.raises(DataNotFoundError) as err:
        download(url, dest)
    assert url in str(err.value) and f"by hand and save it as {dest}" in str(err.value)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    assert isinstance(err.value, FileNotFoundError)  # callers may catch the builtin


def test_paths_are_pathlib(tmp_path, own_cache):
    (tmp_path / "f.txt").write_text("x")
    assert isinstance(locate("f.txt", str(tmp_path)), Path)


def test_download_with_a_progress_bar(server, tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on an interactive terminal
    dest = tmp_path / "data.bin"
    download(f"{server}/data.bin", dest, PAYLOAD_SHA, progress=True)
    assert dest.read_bytes() == PAYLOAD
