"""Unit tests of reference_impl/http/server_core.py: request parsing and the responses."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_PATH = ROOT / "reference_impl" / "http" / "server_core.py"
DOCROOT_PATH = ROOT / "fixtures" / "http" / "docroot.py"
NOW = 1_700_000_000.0


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load("http_reference_server_core", CORE_PATH)
docroot_module = _load("http_fixture_docroot", DOCROOT_PATH)


@pytest.fixture(scope="module")
def docroot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("http")
    docroot_module.make_docroot(base / "root")
    (base / "secret.txt").write_text("secret\n")
    return base / "root"


def parse_all(data: bytes) -> list[object]:
    parser = core.RequestParser()
    parser.feed(data)
    out: list[object] = []
    while True:
        try:
            request = parser.next_request()
        except core.ParseError as error:
            out.append(error.status)
            return out
        if request is None:
            return out
        out.append(request)


def get(docroot: Path, target: str, *extra: str, method: str = "GET") -> object:
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\n" + "".join(f"{h}\r\n" for h in extra)
    [request] = parse_all((head + "\r\n").encode("utf-8"))
    return core.respond(request, str(docroot), NOW)


def header(response: object, name: str) -> str | None:
    return dict(response.headers).get(name)  # type: ignore[attr-defined]


def test_pipelined_requests_in_order_one_octet_at_a_time() -> None:
    data = b"\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
    parser = core.RequestParser()
    seen = []
    for octet in data:
        parser.feed(bytes([octet]))
        request = parser.next_request()
        if request is not None:
            seen.append((request.method, request.target))
    assert seen == [("GET", "/a"), ("HEAD", "/b")]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /" + b"a" * 100_000, 414),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 20_000, 431),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    ],
)
def test_malformed_requests(data: bytes, status: int) -> None:
    assert parse_all(data) == [status]


def test_content_length_with_transfer_encoding_is_rejected_and_nothing_follows() -> None:
    data = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert parse_all(data) == [400]


def test_chunked_body_decoded() -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    [request] = parse_all(data)
    assert request.body == b"abc"  # type: ignore[attr-defined]


def test_http10_without_host_is_served_and_closed(docroot: Path) -> None:
    [request] = parse_all(b"GET /index.html HTTP/1.0\r\n\r\n")
    response = core.respond(request, str(docroot), NOW)
    assert response.status == 200 and response.close


def test_get_counts_octets_and_head_sends_no_body(docroot: Path) -> None:
    content = (docroot / "unicode.txt").read_bytes()
    response = get(docroot, "/unicode.txt")
    assert response.status == 200
    assert header(response, "Content-Length") == str(len(content))
    assert response.to_bytes().endswith(b"\r\n\r\n" + content)
    head = get(docroot, "/unicode.txt", method="HEAD")
    assert head.to_bytes().endswith(b"\r\n\r\n")
    assert header(head, "Content-Length") == str(len(content))
    assert header(response, "Date") is not None


def test_methods(docroot: Path) -> None:
    response = get(docroot, "/index.html", method="DELETE")
    assert response.status == 405 and header(response, "Allow") == "GET, HEAD"
    assert get(docroot, "/index.html", method="BREW").status == 501


def test_percent_decoded_name(docroot: Path) -> None:
    response = get(docroot, "/na%C3%AFve%20r%C3%A9sum%C3%A9%20file.txt")
    assert response.status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/sub\\..\\..\\secret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/./../secret.txt",
        "http://x/../secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
    ],
)
def test_traversal_never_escapes(docroot: Path, target: str) -> None:
    response = get(docroot, target)
    assert response.status == 404
    assert b"secret" not in response.body


def test_conditional_requests(docroot: Path) -> None:
    first = get(docroot, "/data.bin")
    etag, modified = header(first, "ETag"), header(first, "Last-Modified")
    again = get(docroot, "/data.bin", f"If-None-Match: {etag}")
    assert again.status == 304 and again.to_bytes().endswith(b"\r\n\r\n")
    assert get(docroot, "/data.bin", f"If-Modified-Since: {modified}").status == 304
    assert get(docroot, "/data.bin", 'If-None-Match: "other"').status == 200


def test_ranges(docroot: Path) -> None:
    content = (docroot / "large.bin").read_bytes()
    response = get(docroot, "/large.bin", "Range: bytes=10-19")
    assert response.status == 206 and response.body == content[10:20]
    assert header(response, "Content-Range") == f"bytes 10-19/{len(content)}"
    assert get(docroot, "/large.bin", "Range: bytes=-4").body == content[-4:]
    assert get(docroot, "/large.bin", "Range: bytes=0-1,5-6").status == 200
    assert get(docroot, "/large.bin", f"Range: bytes={len(content)}-").status == 416


def test_connection_close_is_honoured(docroot: Path) -> None:
    response = get(docroot, "/index.html", "Connection: close")
    assert response.close and header(response, "Connection") == "close"
    assert not get(docroot, "/index.html").close
