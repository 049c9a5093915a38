"""Unit tests of reference_impl/http/client_core.py: request bytes, response framing,
redirects, Basic credentials, cookies and the revalidation cache."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_PATH = ROOT / "reference_impl" / "http" / "client_core.py"


def _load_core() -> ModuleType:
    # Loaded under its own name: the module name must not clash with another suite's core.
    spec = importlib.util.spec_from_file_location("http_reference_client_core", CORE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load_core()


def parse(*pieces: bytes, eof: bool = False) -> object:
    parser = core.ResponseParser()
    for piece in pieces:
        parser.feed(piece)
    if eof:
        parser.feed_eof()
    return parser.response


def test_request_has_request_line_host_and_form_body() -> None:
    url = core.parse_url("http://127.0.0.1:8080/a%20b?x=1")
    request = core.build_request("POST", url, [("Content-Type", core.FORM_TYPE)], b"a=1")
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /a%20b?x=1 HTTP/1.1"
    assert b"Host: 127.0.0.1:8080" in lines
    assert b"Content-Length: 3" in lines
    assert body == b"a=1"


def test_default_port_is_left_out_of_host() -> None:
    assert core.parse_url("https://localhost/").authority == "localhost"
    assert core.parse_url("http://[::1]:81").authority == "[::1]:81"


def test_empty_reason_phrase_and_content_length() -> None:
    response = parse(b"HTTP/1.1 200 \r\nContent-Length: 5\r\n\r\nhel", b"lo")
    assert response is not None
    assert (response.status, response.reason, response.body) == (200, "", b"hello")
    assert response.keep_alive


def test_chunked_with_extension_and_trailer_one_byte_at_a_time() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;x=y\r\nabc\r\n1\r\nd\r\n0\r\nT: 1\r\n\r\n"
    )
    parser = core.ResponseParser()
    for index in range(len(raw)):
        parser.feed(raw[index : index + 1])
    assert parser.response is not None
    assert parser.response.body == b"abcd"


def test_close_delimited_body_ends_at_eof() -> None:
    response = parse(b"HTTP/1.1 200 OK\r\n\r\nall of it", eof=True)
    assert response is not None
    assert response.body == b"all of it"
    assert not response.keep_alive


def test_short_body_is_an_error() -> None:
    with pytest.raises(core.ProtocolError):
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", eof=True)
    with pytest.raises(core.ProtocolError):
        parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", eof=True)


def test_interim_response_skipped_and_304_has_no_body() -> None:
    response = parse(b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n')
    assert response is not None
    assert (response.status, response.body) == (304, b"")


def test_gzip_is_decoded() -> None:
    response = parse(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        % len(gzip.compress(b"text")),
        gzip.compress(b"text"),
    )
    assert core.decode_content(response) == b"text"


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (301, "GET", "GET"),
        (302, "POST", "GET"),
        (303, "POST", "GET"),
        (307, "POST", "POST"),
        (308, "POST", "POST"),
    ],
)
def test_redirect_method(status: int, method: str, expected: str) -> None:
    assert core.redirect_method(status, method) == expected


def test_relative_location_is_resolved_against_the_request_url() -> None:
    base = core.parse_url("http://127.0.0.1:8000/dir/page?q=1")
    assert core.resolve(base, "other").text() == "http://127.0.0.1:8000/dir/other"
    assert core.resolve(base, "/top").text() == "http://127.0.0.1:8000/top"
    assert core.resolve(base, "//127.0.0.2:9/x").origin == ("http", "127.0.0.2", 9)


def test_basic_credentials_follow_rfc_7617_example() -> None:
    assert core.basic_credentials("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_credentials_only_for_their_origin() -> None:
    url = core.parse_url("http://user:p%40ss@127.0.0.1:8000/")
    assert (url.username, url.password) == ("user", "p@ss")
    credentials = (url.origin, core.basic_credentials("user", "p@ss"))
    jar, cache = core.CookieJar(), core.Cache()
    same = core.request_headers(url, credentials, jar, cache)
    assert core.header(same, "Authorization") == credentials[1]
    for other in ("http://127.0.0.1:8001/", "http://127.0.0.2:8000/", "https://127.0.0.1:8000/"):
        fields = core.request_headers(core.parse_url(other), credentials, jar, cache)
        assert core.header(fields, "Authorization") is None


def test_cookies_by_host_not_port() -> None:
    jar = core.CookieJar()
    jar.store(core.parse_url("http://127.0.0.1:8000/a/b"), [("Set-Cookie", "s=1; Path=/")])
    assert jar.header_value(core.parse_url("http://127.0.0.1:9000/x")) == "s=1"
    assert jar.header_value(core.parse_url("http://127.0.0.2:8000/x")) is None
    jar.store(core.parse_url("http://127.0.0.1:8000/"), [("Set-Cookie", "s=; Max-Age=0")])
    assert jar.header_value(core.parse_url("http://127.0.0.1:8000/x")) is None


def test_cache_revalidates_and_answers_304_from_store() -> None:
    cache = core.Cache()
    url = core.parse_url("http://127.0.0.1:8000/f")
    assert cache.validators(url) == []
    first = parse(
        b'HTTP/1.1 200 OK\r\nETag: "v1"\r\nLast-Modified: x\r\nContent-Length: 2\r\n\r\nhi'
    )
    assert cache.update(url, first, first.body) == b"hi"
    assert cache.validators(url) == [("If-None-Match", '"v1"'), ("If-Modified-Since", "x")]
    again = parse(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
    assert cache.update(url, again, b"") == b"hi"
