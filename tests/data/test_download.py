"""download_file: file:// URLs, plain paths, checksums, resume over HTTP Range, offline errors; safe extraction."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import tarfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from audiospec.data import download_file, extract_tar
from audiospec.errors import AudiospecError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB of known bytes
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /file, honouring ``Range: bytes=N-``; records the Range headers seen."""

    ranges: list[str | None] = []
    honour_range = True

    def do_GET(self):  # noqa: N802 - http.server API
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        if self.path != "/file":
            self.send_error(404, "Not Found")
            return
        start = 0
        if header and self.honour_range:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    RangeHandler.ranges = []
    RangeHandler.honour_range = True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "payload.bin"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def test_file_url_and_plain_path_with_checksum(tmp_path):
    src = _source(tmp_path)
    for url in (src.as_uri(), str(src)):
        dest = tmp_path / "out" / f"{len(url)}.bin"
        got = download_file(url, dest, sha256=PAYLOAD_SHA, expected_size=len(PAYLOAD), progress=False)
        assert got == dest and dest.read_bytes() == PAYLOAD
        assert (dest.parent / (dest.name + ".completed")).is_file()
        assert not (dest.parent / (dest.name + ".part")).exists()


def test_completed_download_is_not_read_again(tmp_path):
    src = _source(tmp_path)
    dest = download_file(str(src), tmp_path / "a.bin", sha256=PAYLOAD_SHA, progress=False)
    src.unlink()  # a second call must not touch the source
    assert download_file(str(src), dest, sha256=PAYLOAD_SHA, progress=False) == dest


def test_checksum_mismatch_removes_the_file(tmp_path):
    src = _source(tmp_path)
    dest = tmp_path / "out" / "a.bin"
    with pytest.raises(AudiospecError, match=rf"checksum mismatch .*sha256 {PAYLOAD_SHA}, expected 0{{64}}.*removed"):
        download_file(str(src), dest, sha256="0" * 64, progress=False)
    assert sorted(p.name for p in dest.parent.iterdir()) == []


def test_size_mismatch_removes_the_file(tmp_path):
    src = _source(tmp_path)
    with pytest.raises(AudiospecError, match=r"has 1048576 bytes, expected 5"):
        download_file(str(src), tmp_path / "a.bin", sha256=None, expected_size=5, progress=False)
    assert not (tmp_path / "a.bin").exists() and not (tmp_path / "a.bin.part").exists()


def test_file_fetched_by_hand_is_verified_and_adopted(tmp_path):
    dest = tmp_path / "manual.bin"
    dest.write_bytes(PAYLOAD)
    got = download_file("http://127.0.0.1:9/never-contacted", dest, sha256=PAYLOAD_SHA, progress=False)
    assert got.read_bytes() == PAYLOAD and (tmp_path / "manual.bin.completed").is_file()


def test_http_download_resumes_a_partial_file(tmp_path, server):
    dest = tmp_path / "r.bin"
    (tmp_path / "r.bin.part").write_bytes(PAYLOAD[: len(PAYLOAD) // 2])
    download_file(f"{server}/file", dest, sha256=PAYLOAD_SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert RangeHandler.ranges == [f"bytes={len(PAYLOAD) // 2}-"]


def test_http_server_ignoring_range_restarts_cleanly(tmp_path, server):
    RangeHandler.honour_range = False
    (tmp_path / "r.bin.part").write_bytes(b"garbage-prefix")
    download_file(f"{server}/file", tmp_path / "r.bin", sha256=PAYLOAD_SHA, progress=False)
    assert (tmp_path / "r.bin").read_bytes() == PAYLOAD


def test_local_copy_resumes_a_partial_file(tmp_path):
    src = _source(tmp_path)
    (tmp_path / "c.bin.part").write_bytes(PAYLOAD[:1000])
    download_file(src.as_uri(), tmp_path / "c.bin", sha256=PAYLOAD_SHA, progress=False)
    assert (tmp_path / "c.bin").read_bytes() == PAYLOAD


def test_http_404_names_the_url(tmp_path, server):
    with pytest.raises(AudiospecError, match=r"download of http://127\.0\.0\.1:\d+/missing failed with HTTP 404"):
        download_file(f"{server}/missing", tmp_path / "m.bin", sha256=None, progress=False)


def test_unreachable_network_gives_the_manual_command_fast(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/music_speech.tar.gz"
    dest = tmp_path / "gtzan-music-speech" / "music_speech.tar.gz"
    started = time.monotonic()
    with pytest.raises(AudiospecError, match=r"cannot download .*unreachable") as info:
        download_file(url, dest, sha256=None, progress=False, timeout=5)
    assert time.monotonic() - started < 5
    assert f"curl -L -o {dest} {url}" in str(info.value)
    assert "--source PATH" in str(info.value)


def test_timeout_is_reported_as_unreachable(tmp_path, monkeypatch):
    def hang(*args, **kwargs):
        raise TimeoutError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", hang)
    expected = r"(?s)cannot download http://example\.invalid/x\.tgz.*timed out.*curl -L -o"
    with pytest.raises(AudiospecError, match=expected):
        download_file("http://example.invalid/x.tgz", tmp_path / "x.tgz", sha256=None, progress=False)


def test_bad_arguments(tmp_path):
    with pytest.raises(AudiospecError, match=r"sha256 must be 64 hex digits or None, got 'abc'"):
        download_file("x", tmp_path / "x", sha256="abc")
    with pytest.raises(AudiospecError, match=r"unsupported URL scheme 'ftp'"):
        download_file("ftp://host/x", tmp_path / "x", sha256=None)
    with pytest.raises(AudiospecError, match=r"source file '.*missing\.tgz' does not exist"):
        download_file(str(tmp_path / "missing.tgz"), tmp_path / "x", sha256=None, progress=False)


# ---- extraction ------------------------------------------------------------------------------


def test_extract_tar_unpacks_into_a_new_folder(tmp_path):
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("top/inner/file.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = extract_tar(archive, tmp_path / "out", progress=False)
    assert (out / "top" / "inner" / "file.txt").read_bytes() == b"hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "out"]  # no temp folder left


def test_extract_tar_refuses_path_traversal(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(AudiospecError, match=r"unsafe member"):
        extract_tar(archive, tmp_path / "out", progress=False)
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out").exists()


def test_extract_tar_reports_a_truncated_archive(tmp_path):
    archive = tmp_path / "t.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = bytes(200_000)
        info = tarfile.TarInfo("big.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive.write_bytes(archive.read_bytes()[:60])
    with pytest.raises(AudiospecError, match=r"t\.tar\.gz' is corrupt or truncated.*download it again"):
        extract_tar(archive, tmp_path / "out", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.tar.gz"]


def test_urllib_error_types_are_the_ones_caught():
    # the offline error path depends on URLError wrapping connection failures
    assert issubclass(urllib.error.URLError, OSError)
