"""Unit tests of reference_impl/wsgi/core.py (request parsing, environ, chunked bodies), of the
time application and of the probe application, run under wsgiref.validate."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    # Loaded under its own name: every suite's folder has a module called core.py.
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load("wsgi_reference_core", ROOT / "reference_impl" / "wsgi" / "core.py")
timeapp = _load("wsgi_reference_timeapp", ROOT / "reference_impl" / "wsgi" / "timeapp.py")
probe = _load("wsgi_probe", ROOT / "fixtures" / "wsgi" / "probe.py")


def _environ_of(raw: bytes) -> dict[str, object]:
    request = core.parse_head(raw)
    framing = core.body_framing(request)
    environ: dict[str, object] = core.build_environ(
        request, "localhost", 8000, "127.0.0.1", framing.chunked
    )
    return environ


def test_path_info_is_percent_decoded_latin1_and_query_is_not() -> None:
    environ = _environ_of(b"GET /a%20b/%C3%A9%2F?q=%20x HTTP/1.1\r\nHost: h\r\n\r\n")
    assert environ["PATH_INFO"] == "/a b/\u00c3\u00a9/"
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/a b/é/"  # type: ignore[attr-defined]
    assert environ["QUERY_STRING"] == "q=%20x"
    assert environ["SCRIPT_NAME"] == ""


def test_repeated_fields_are_joined_in_order() -> None:
    raw = b"GET / HTTP/1.1\r\nHost: h\r\nX-Many: 1\r\nx-many: 2\r\nX-Many: 3\r\n\r\n"
    assert _environ_of(raw)["HTTP_X_MANY"] == "1, 2, 3"


def test_content_fields_have_no_http_prefix() -> None:
    raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: a/b\r\nContent-Length: 3\r\n\r\n"
    environ = _environ_of(raw)
    assert environ["CONTENT_TYPE"] == "a/b" and environ["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", core.BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", core.BAD_REQUEST),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", core.VERSION_NOT_SUPPORTED),
        (b"GET /\r\n\r\n", core.BAD_REQUEST),
    ],
)
def test_bad_heads_are_refused(raw: bytes, status: str) -> None:
    with pytest.raises(core.HttpError) as error:
        core.parse_head(raw)
    assert error.value.status == status


def test_framing() -> None:
    head = core.parse_head(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert core.body_framing(head) == core.Framing(None, chunked=True)
    both = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
    with pytest.raises(core.HttpError):
        core.body_framing(core.parse_head(both))
    two = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
    with pytest.raises(core.HttpError):
        core.body_framing(core.parse_head(two))


def test_chunked_decoder_fed_one_octet_at_a_time() -> None:
    wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nGET /next"
    decoder = core.ChunkedDecoder()
    out = b"".join(decoder.feed(wire[i : i + 1]) for i in range(len(wire)))
    assert out == b"hello world" and decoder.done
    assert decoder.unused == b"GET /next"[: len(decoder.unused)]


def test_chunked_decoder_refuses_bad_size() -> None:
    with pytest.raises(core.HttpError):
        core.ChunkedDecoder().feed(b"zz\r\n")


def test_response_head_and_chunks() -> None:
    head = core.response_head("200 OK", [("A", "b")], chunked=True, close=False, now=0)
    assert head.startswith(b"HTTP/1.1 200 OK\r\nA: b\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n")
    assert head.endswith(b"Transfer-Encoding: chunked\r\n\r\n")
    assert core.chunk(b"") == b"" and core.chunk(b"abc") == b"3\r\nabc\r\n"


def _call(app: Any, **overrides: Any) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {}
    environ["QUERY_STRING"] = ""
    setup_testing_defaults(environ)
    environ.update(overrides)
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, dict(headers)))
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    assert len(seen) == 1
    return seen[0][0], seen[0][1], body


def test_timeapp_tells_the_time_on_127_0_0_1_with_any_port() -> None:
    status, headers, body = _call(timeapp.app, HTTP_HOST="127.0.0.1:8123", QUERY_STRING="a=b")
    assert status.startswith("200") and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert time.strftime("%Y") in body.decode("utf-8")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"REQUEST_METHOD": "POST"}, "501"),
        ({"REQUEST_METHOD": "FROB"}, "501"),
        ({"HTTP_HOST": "localhost"}, "404"),
        ({"HTTP_HOST": "127.0.0.10"}, "404"),
        ({"PATH_INFO": "/time"}, "404"),
    ],
)
# wsgiref.validate warns about the unknown method on purpose: that is the request under test.
@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
def test_timeapp_refuses(overrides: dict[str, str], code: str) -> None:
    environ = {"HTTP_HOST": "127.0.0.1", "PATH_INFO": "/", **overrides}
    assert _call(timeapp.app, **environ)[0].startswith(code)


def test_probe_reports_environ_and_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "close.log"
    monkeypatch.setenv(probe.LOG_VARIABLE, str(log))
    status, _, body = _call(
        probe.app,
        REQUEST_METHOD="POST",
        CONTENT_LENGTH="5",
        HTTP_X_PROBE_ID="t1",
        **{"wsgi.input": io.BytesIO(b"helloEXTRA")},
    )
    report = json.loads(body)
    assert status == "200 OK" and report["body_length"] == 5
    assert report["environ"]["CONTENT_LENGTH"] == "5" and report["errors_ok"]
    record = json.loads(log.read_text())
    assert record["id"] == "t1" and record["finished"]


def test_probe_chunks_include_empty_items() -> None:
    _, _, body = _call(probe.app, HTTP_X_PROBE_ACTION="chunks", HTTP_X_PROBE_COUNT="20")
    assert body == b"".join(probe.chunk_item(i) for i in range(20))
    assert probe.chunk_item(9) == b""
