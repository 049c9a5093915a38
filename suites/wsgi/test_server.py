"""wsgi.server: a WSGI server serving the suite's probe application (wsgi PROFILE §3)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from suites.wsgi.protocol import (
    HEAD_END,
    HEADERS_BODY,
    HEADERS_STATUS,
    LOG_NAME,
    LOG_VARIABLE,
    STREAM_ITEM_SIZE,
    WRITE_BODY,
    Deadline,
    Response,
    body_read,
    chunked,
    chunks_body,
    new_id,
    probe_fields,
    read_body,
    read_head,
    read_response,
    records_for,
    report_of,
    request,
    wait_for_record,
)
from wirecheck import (
    MUST,
    SHOULD,
    CaseRecord,
    ConformanceFailure,
    ServerHandle,
    TcpConnection,
    Timeouts,
    case,
    expect,
)
from wirecheck.manifest import Value
from wirecheck.wire import describe

pytestmark = pytest.mark.role("wsgi.server", view="http")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

PROBE_FOLDER = Path(__file__).resolve().parents[2] / "fixtures" / "wsgi"
REPLY = 5.0  # PROFILE §1.5: seconds the suite waits for a complete response
QUIET = 0.1  # seconds of silence that count as "nothing more", and the wait for an early answer
CLOSE_WAIT = 2.0  # PROFILE §3.8/1: seconds for the close() record after a response
GONE_WAIT = 15.0  # PROFILE §3.8/2: seconds for the close() record after the client went away
SECOND_WAIT = 0.2  # PROFILE §3.8/3: seconds after a first close() record that a second may take
PIECE_PAUSE = 0.2  # PROFILE §3.5/2: seconds between the writes of a chunked body
STALL_WAIT = 2.0  # PROFILE §3.10/1: seconds another client may wait while one stalls
ALL_OCTETS = bytes(i % 256 for i in range(100_000))  # PROFILE §3.4/1
BIG_CHUNKED = bytes((i * 7) % 256 for i in range(300_000))  # PROFILE §3.5/3
BIG_CHUNK = 4096


@pytest.fixture(scope="module")
def role_placeholders() -> dict[str, Value]:
    """PROFILE §1.1: the server serves the probe, `probe:app`."""
    return {"app": "probe:app"}


@pytest.fixture(scope="module")
def role_environment() -> dict[str, str]:
    """PROFILE §1.1, §1.5: the probe is importable through PYTHONPATH and logs its close()."""
    return {"PYTHONPATH": str(PROBE_FOLDER), LOG_VARIABLE: "{workdir}/" + LOG_NAME}


# -- asking ----------------------------------------------------------------------------------------
def host(server: ServerHandle) -> str:
    return f"{server.host}:{server.port}"


def log_of(server: ServerHandle) -> Path:
    if server.workdir is None:
        pytest.skip("the probe's close() log is only readable for a server the suite starts")
    return server.workdir / LOG_NAME


def exchange(
    server: ServerHandle,
    timeouts: Timeouts,
    method: str,
    target: str,
    fields: list[str],
    *,
    body: bytes = b"",
    close: bool = True,
) -> Response:
    """One request on its own connection (PROFILE §1.5) and its response, read by framing."""
    __tracebackhide__ = True
    with server.connect(f"{method} {target}") as conn:
        conn.send(request(method, target, host(server), fields, body=body, close=close))
        return read_response(conn, timeouts(REPLY), head_request=method == "HEAD")


def echo(
    server: ServerHandle,
    timeouts: Timeouts,
    target: str = "/",
    *extra: str,
    method: str = "GET",
    read: str = "",
    body: bytes = b"",
    close: bool = True,
) -> dict[str, Any]:
    """The probe's report for one `echo` request."""
    __tracebackhide__ = True
    fields = probe_fields(new_id("echo"), "echo", read=read, extra=extra)
    resp = exchange(server, timeouts, method, target, fields, body=body, close=close)
    return report_of(resp)


def expect_environ(report: dict[str, Any], name: str, *allowed: str | None) -> None:
    """The environ entry ``name`` is one of ``allowed`` (None: absent)."""
    __tracebackhide__ = True
    value = report["environ"].get(name)
    present = name in report["types"]
    if present and value is None:
        got = f"{name} of type {report['types'][name]}, not str"
    else:
        got = f"{name} = {value!r}" if present else f"no {name}"
    expect(
        value in allowed and (present or None in allowed),
        expected=" or ".join(f"{name} = {a!r}" if a is not None else f"no {name}" for a in allowed),
        actual=got,
    )


def expect_status(resp: Response, *allowed: int) -> None:
    __tracebackhide__ = True
    expect(
        resp.status in allowed,
        expected="status " + " or ".join(map(str, allowed)),
        actual=resp.summary(),
    )


def expect_body(resp: Response, want: bytes, what: str) -> None:
    __tracebackhide__ = True
    expect(
        resp.body == want,
        expected=f"{what}: {describe(want, 80)}",
        actual=f"{resp.summary()}: {describe(resp.body, 120)}",
    )


# -- 3.1 The request line in the environ -----------------------------------------------------------
REQUEST_LINE_RULE = (
    "`REQUEST_METHOD` MUST be the method as sent. `SCRIPT_NAME` MUST be empty (the application is "
    "mounted at the root). PATH_INFO MUST be the percent-decoded path of the request target, held "
    "as a native str whose code points are the decoded octets (latin-1). QUERY_STRING MUST be the "
    "query of the request target, not decoded, without its `?` (empty when there is none). "
    "`SERVER_PROTOCOL` MUST be the version of the request line."
)


@case("wsgi/3.1/1", MUST, REQUEST_LINE_RULE)
def test_plain_request_line(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/plain/path")
    expect_environ(report, "REQUEST_METHOD", "GET")
    expect_environ(report, "SCRIPT_NAME", "")
    expect_environ(report, "PATH_INFO", "/plain/path")
    expect_environ(report, "QUERY_STRING", "")
    expect_environ(report, "SERVER_PROTOCOL", "HTTP/1.1")


@case("wsgi/3.1/2", MUST, REQUEST_LINE_RULE)
def test_path_info_decoded(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/a%20b/caf%C3%A9+x%2B")
    # `+` is a plain character in a path (RFC 3986 §3.3); only a query's form encoding (and
    # unquote_plus) turns it into a space.
    expect_environ(report, "PATH_INFO", "/a b/caf\u00c3\u00a9+x+")


@case("wsgi/3.1/3", MUST, REQUEST_LINE_RULE)
def test_path_info_octets(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/octets/%FF%FE%41")
    expect_environ(report, "PATH_INFO", "/octets/\xff\xfeA")


@case("wsgi/3.1/4", MUST, REQUEST_LINE_RULE)
def test_query_string(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/q?x=%20y&z=%2F")
    expect_environ(report, "PATH_INFO", "/q")
    expect_environ(report, "QUERY_STRING", "x=%20y&z=%2F")


@case("wsgi/3.1/5", MUST, REQUEST_LINE_RULE)
@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
def test_other_methods(server: ServerHandle, timeouts: Timeouts, method: str) -> None:
    report = echo(server, timeouts, "/", "Content-Length: 0", method=method)
    expect_environ(report, "REQUEST_METHOD", method)


# -- 3.2 Header fields in the environ --------------------------------------------------------------
FIELDS_RULE = (
    "Every request field MUST appear as `HTTP_` followed by its name in capitals with `-` as `_`, "
    "except `Content-Type` and `Content-Length`, which MUST appear as `CONTENT_TYPE` and "
    "`CONTENT_LENGTH`, their values as sent. A field sent more than once MUST appear once, its "
    'values joined in order with "," or ", ".'
)


@case("wsgi/3.2/1", MUST, FIELDS_RULE)
def test_single_fields(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/", "X-Probe-Single: one", "User-Agent: wirecheck")
    expect_environ(report, "HTTP_X_PROBE_SINGLE", "one")
    expect_environ(report, "HTTP_USER_AGENT", "wirecheck")
    expect_environ(report, "HTTP_HOST", host(server))


@case("wsgi/3.2/2", MUST, FIELDS_RULE, rfc="RFC 9110 §5.3")
def test_repeated_field(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/", "X-Probe-Many: 1", "X-Probe-Many: 2", "x-probe-many: 3")
    expect_environ(report, "HTTP_X_PROBE_MANY", "1,2,3", "1, 2, 3")


@case("wsgi/3.2/3", MUST, FIELDS_RULE)
def test_content_fields(server: ServerHandle, timeouts: Timeouts) -> None:
    form = b"a=1&b=2"
    report = echo(
        server,
        timeouts,
        "/",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(form)}",
        method="POST",
        body=form,
    )
    expect_environ(report, "CONTENT_TYPE", "application/x-www-form-urlencoded")
    expect_environ(report, "CONTENT_LENGTH", str(len(form)))
    expect_environ(report, "HTTP_CONTENT_TYPE", None)
    expect_environ(report, "HTTP_CONTENT_LENGTH", None)


@case("wsgi/3.2/4", MUST, FIELDS_RULE)
def test_no_body_length(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/")
    expect_environ(report, "CONTENT_LENGTH", None, "", "0")


@case("wsgi/3.2/5", MUST, FIELDS_RULE, rfc="PEP 3333 §A Note On String Types")
def test_cgi_values_are_str(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts, "/", "X-Probe-Single: one")
    wrong = {
        key: kind
        for key, kind in report["types"].items()
        if key == key.upper() and not key.startswith("wsgi.") and kind != "str"
    }
    expect(
        not wrong,
        expected="every upper-case environ entry a str",
        actual=", ".join(f"{key} is {kind}" for key, kind in sorted(wrong.items())),
    )


# -- 3.3 Server variables and wsgi.* ---------------------------------------------------------------
SERVER_RULE = (
    "`SERVER_NAME` MUST be non-empty and `SERVER_PORT` MUST be the port as a decimal string. "
    "`wsgi.version` MUST be `(1, 0)`, `wsgi.url_scheme` `http`, and `wsgi.multithread`, "
    "`wsgi.multiprocess` and `wsgi.run_once` booleans. `wsgi.errors` MUST be writable."
)
FLAGS = ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once")


@case("wsgi/3.3/1", MUST, SERVER_RULE)
def test_server_variables(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts)
    name = report["environ"].get("SERVER_NAME")
    expect(bool(name), expected="a non-empty SERVER_NAME", actual=f"SERVER_NAME = {name!r}")
    expect_environ(report, "SERVER_PORT", str(server.port))


@case("wsgi/3.3/2", MUST, SERVER_RULE)
def test_wsgi_variables(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts)
    wsgi = report["wsgi"]
    expect(
        wsgi.get("wsgi.version") == [1, 0],
        expected="wsgi.version (1, 0)",
        actual=f"wsgi.version {wsgi.get('wsgi.version', 'absent')!r}",
    )
    expect_environ(report, "wsgi.url_scheme", "http")
    kinds = {flag: report["types"].get(flag, "absent") for flag in FLAGS}
    expect(
        all(kind == "bool" for kind in kinds.values()),
        expected="the three flags booleans",
        actual=", ".join(f"{flag} is {kind}" for flag, kind in kinds.items()),
    )


@case("wsgi/3.3/3", MUST, SERVER_RULE)
def test_errors_writable(server: ServerHandle, timeouts: Timeouts) -> None:
    report = echo(server, timeouts)
    expect(
        report.get("errors_ok") is True,
        expected="writing a line to wsgi.errors and flushing it raises nothing",
        actual=f"errors_ok {report.get('errors_ok')!r}",
    )


# -- 3.4 wsgi.input --------------------------------------------------------------------------------
INPUT_RULE = "`wsgi.input` MUST deliver exactly the request body."
PAST_END_RULE = (
    'Reading past the end of the body SHOULD return the octets that are left and then b"" '
    "(end-of-file) at once, never wait for octets that are not body."
)


def post_open(server: ServerHandle, timeouts: Timeouts, read: str, body: bytes) -> dict[str, Any]:
    """PROFILE §3.4: a POST on a connection left open, so that only the framing ends the body."""
    __tracebackhide__ = True
    return echo(
        server,
        timeouts,
        "/",
        "Content-Type: application/octet-stream",
        f"Content-Length: {len(body)}",
        method="POST",
        read=read,
        body=body,
        close=False,
    )


def expect_reads(report: dict[str, Any], body: bytes, reads: list[int]) -> None:
    __tracebackhide__ = True
    got = body_read(report)
    expect(
        got == body and report.get("reads") == reads,
        expected=f"the body {describe(body, 40)}, in reads of {reads} octets",
        actual=f"{describe(got, 40)}, in reads of {report.get('reads')} octets",
    )


@case("wsgi/3.4/1", MUST, INPUT_RULE)
def test_input_exact_body(server: ServerHandle, timeouts: Timeouts) -> None:
    report = post_open(server, timeouts, "body", ALL_OCTETS)
    got = body_read(report)
    first = next((i for i, (a, b) in enumerate(zip(got, ALL_OCTETS, strict=False)) if a != b), -1)
    expect(
        got == ALL_OCTETS,
        expected=f"the {len(ALL_OCTETS)} octets sent, every value 0-255",
        actual=f"{len(got)} octets" + (f", first difference at {first}" if first >= 0 else ""),
    )


@case("wsgi/3.4/2", SHOULD, PAST_END_RULE, rfc="PEP 3333 §Input and Error Streams")
def test_input_read_all(server: ServerHandle, timeouts: Timeouts) -> None:
    expect_reads(post_open(server, timeouts, "all", b"hello"), b"hello", [5])


@case("wsgi/3.4/3", SHOULD, PAST_END_RULE, rfc="PEP 3333 §Input and Error Streams")
def test_input_read_over(server: ServerHandle, timeouts: Timeouts) -> None:
    expect_reads(post_open(server, timeouts, "over", b"hello"), b"hello", [5, 0])


@case("wsgi/3.4/4", SHOULD, PAST_END_RULE, rfc="PEP 3333 §Input and Error Streams")
def test_input_readlines(server: ServerHandle, timeouts: Timeouts) -> None:
    expect_reads(post_open(server, timeouts, "lines", b"hello\nworld"), b"hello\nworld", [6, 5])


@case("wsgi/3.4/5", SHOULD, PAST_END_RULE, rfc="PEP 3333 §Input and Error Streams")
def test_input_empty_body(server: ServerHandle, timeouts: Timeouts) -> None:
    report = post_open(server, timeouts, "all", b"")
    expect(
        report.get("body_length") == 0,
        expected="body_length 0",
        actual=f"body_length {report.get('body_length')!r}",
    )


# -- 3.5 Chunked request bodies --------------------------------------------------------------------
CHUNKED_RULE = (
    "A request body with `Transfer-Encoding: chunked` MUST be either decoded, with "
    "`CONTENT_LENGTH` set to its decoded length or with `wsgi.input_terminated` true, or refused "
    "with `411`."
)
HELLO_WORLD = chunked([b"hello", b" world"], {1: ";ext=1"})


def answered(conn: TcpConnection, seconds: float) -> bool:
    """Whether a response (or the close) came before the suite sent everything."""
    conn.wait_readable(lambda got: HEAD_END in got, timeout=seconds)
    return HEAD_END in conn.buffer or conn.eof


def post_chunked(
    server: ServerHandle, timeouts: Timeouts, pieces: list[bytes], pause: float
) -> Response:
    """The head, then ``pieces`` ``pause`` s apart; a server that answers (411) on the head
    alone is not sent the rest (it may have closed, and a write would reset the connection)."""
    __tracebackhide__ = True
    fields = probe_fields(
        new_id("chunked"),
        "echo",
        extra=("Content-Type: application/octet-stream", "Transfer-Encoding: chunked"),
    )
    with server.connect("POST / chunked") as conn:
        conn.send(request("POST", "/", host(server), fields))
        for piece in pieces:
            if answered(conn, timeouts(pause)):
                break
            try:
                conn.send(piece)
            except ConformanceFailure:
                break  # judged by the response that came
        return read_response(conn, timeouts(REPLY))


def expect_chunked_body(resp: Response, want: bytes) -> None:
    __tracebackhide__ = True
    if resp.status == 411:
        return
    report = report_of(resp)
    got = body_read(report)
    expect(
        got == want,
        expected=f"411, or 200 and the decoded body ({len(want)} octets) read",
        actual=f"{len(got)} octets read: {describe(got, 60)}",
    )
    length = report["environ"].get("CONTENT_LENGTH")
    expect(
        not length or length == str(len(want)),
        expected=f"no CONTENT_LENGTH, or the decoded length {len(want)}",
        actual=f"CONTENT_LENGTH = {length!r}",
    )


@case("wsgi/3.5/1", MUST, CHUNKED_RULE, rfc="RFC 9112 §7.1")
def test_chunked_body(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = post_chunked(server, timeouts, [b"".join(HELLO_WORLD)], QUIET)
    expect_chunked_body(resp, b"hello world")


@case("wsgi/3.5/2", MUST, CHUNKED_RULE, rfc="RFC 9112 §7.1")
def test_chunked_body_slow(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = post_chunked(server, timeouts, HELLO_WORLD, PIECE_PAUSE)
    expect_chunked_body(resp, b"hello world")


@case("wsgi/3.5/3", MUST, CHUNKED_RULE, rfc="RFC 9112 §7.1")
def test_chunked_body_large(server: ServerHandle, timeouts: Timeouts) -> None:
    pieces = [BIG_CHUNKED[i : i + BIG_CHUNK] for i in range(0, len(BIG_CHUNKED), BIG_CHUNK)]
    resp = post_chunked(server, timeouts, [b"".join(chunked(pieces))], QUIET)
    expect_chunked_body(resp, BIG_CHUNKED)


# -- 3.6 Status and header fields of the response --------------------------------------------------
HEADERS_RULE = (
    "The server MUST send the status and the header fields as the application gave them: the "
    "status line's code and reason phrase as given, every field with its value as given, a field "
    "given twice sent as two lines in the application's order."
)


def headers_response(server: ServerHandle, timeouts: Timeouts) -> Response:
    __tracebackhide__ = True
    return exchange(server, timeouts, "GET", "/", probe_fields(new_id("headers"), "headers"))


@case("wsgi/3.6/1", MUST, HEADERS_RULE, rfc="PEP 3333 §The start_response() Callable")
def test_status_line(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = headers_response(server, timeouts)
    expect(
        resp.version in ("1.1", "1.0") and f"{resp.status} {resp.reason}" == HEADERS_STATUS,
        expected=f"HTTP/1.1 {HEADERS_STATUS} (or HTTP/1.0)",
        actual=resp.status_line(),
    )


@case("wsgi/3.6/2", MUST, HEADERS_RULE, rfc="PEP 3333 §The start_response() Callable")
def test_field_values(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = headers_response(server, timeouts)
    expect(
        resp.all("X-Probe-Echo") == ["one, two"],
        expected="one line `X-Probe-Echo: one, two`",
        actual=f"X-Probe-Echo lines {resp.all('X-Probe-Echo')}",
    )
    expect(
        resp.all("Content-Length") == [str(len(HEADERS_BODY))],
        expected=f"Content-Length: {len(HEADERS_BODY)}",
        actual=f"Content-Length lines {resp.all('Content-Length')}",
    )


@case("wsgi/3.6/3", MUST, HEADERS_RULE, rfc="RFC 9110 §5.3")
def test_repeated_response_field(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = headers_response(server, timeouts)
    expect(
        resp.all("Set-Cookie") == ["a=1", "b=2"],
        expected="two Set-Cookie lines, a=1 then b=2",
        actual=f"Set-Cookie lines {resp.all('Set-Cookie')}",
    )
    expect(
        resp.media_type() == "text/plain",
        expected="Content-Type text/plain",
        actual=f"Content-Type {resp.get('Content-Type')!r}",
    )
    expect_body(resp, HEADERS_BODY, "the body the application gave")


# -- 3.7 The body: items and write() ---------------------------------------------------------------
BODY_RULE = (
    "The server MUST send every item of the iterable, in order, and nothing else, and MUST NOT end "
    "the body on an empty item. The `write()` callable returned by `start_response` MUST send its "
    "data before the items of the iterable."
)


@case("wsgi/3.7/1", MUST, BODY_RULE, rfc="PEP 3333 §Buffering and Streaming")
def test_body_items(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = exchange(server, timeouts, "GET", "/", probe_fields(new_id("chunks"), "chunks"))
    expect_status(resp, 200)
    expect_body(resp, chunks_body(), "the 100 items joined")


@case("wsgi/3.7/2", MUST, BODY_RULE, rfc="PEP 3333 §Buffering and Streaming")
def test_body_many_items(server: ServerHandle, timeouts: Timeouts) -> None:
    fields = probe_fields(new_id("chunks"), "chunks", count=2000)
    resp = exchange(server, timeouts, "GET", "/", fields)
    expect_status(resp, 200)
    expect_body(resp, chunks_body(2000), "the 2000 items joined")


@case("wsgi/3.7/3", MUST, BODY_RULE, rfc="PEP 3333 §The write() Callable")
def test_write_callable(server: ServerHandle, timeouts: Timeouts) -> None:
    resp = exchange(server, timeouts, "GET", "/", probe_fields(new_id("write"), "write"))
    expect_status(resp, 200)
    expect_body(resp, WRITE_BODY, "write() data, then the returned items")


@case(
    "wsgi/3.6/4",
    MUST,
    "A response MUST NOT carry both `Content-Length` and `Transfer-Encoding`: a server that "
    "chunks a body whose length the application gave drops the `Content-Length`.",
    rfc="RFC 9112 §6.2",
)
def test_length_or_chunked_never_both(server: ServerHandle, timeouts: Timeouts) -> None:
    fields = probe_fields(new_id("headers"), "headers")
    with server.connect("GET / headers, connection left open") as conn:
        conn.send(request("GET", "/", host(server), fields, close=False))
        resp = read_response(conn, timeouts(REPLY))  # refuses a response that has both
    expect_body(resp, HEADERS_BODY, "the body the application gave")


@case("wsgi/3.7/4", MUST, BODY_RULE, rfc="RFC 9112 §7.1")
def test_chunked_response(server: ServerHandle, timeouts: Timeouts) -> None:
    fields = probe_fields(new_id("chunks"), "chunks")
    with server.connect("GET / chunks, connection left open") as conn:
        conn.send(request("GET", "/", host(server), fields, close=False))
        resp = read_response(conn, timeouts(REPLY))
        after = b"" if conn.eof else conn.expect_silence(timeouts(QUIET))
    sizes = f" in chunks of {resp.chunks}" if resp.framing == "chunked" else ""
    expect(
        resp.body == chunks_body() and not after,
        expected="the 100 items joined, and nothing after the end of the response"
        + (" (no zero-size chunk before the last)" if resp.framing == "chunked" else ""),
        actual=f"{resp.summary()}{sizes}"
        + (f"; then {describe(after, 80)}" if after else "")
        + ("" if resp.body == chunks_body() else f": {describe(resp.body, 80)}"),
    )


# -- 3.8 close() -----------------------------------------------------------------------------------
CLOSE_RULE = (
    "The server MUST call the iterable's close(), if it has one, once the body is sent, and also "
    "when the body could not be sent (the client went away)."
)
COMPLETE_ACTIONS = ("echo", "chunks", "write")


def request_complete(server: ServerHandle, timeouts: Timeouts, action: str) -> str:
    """One whole response for ``action``; the id its close() record will carry."""
    __tracebackhide__ = True
    probe_id = new_id(action)
    resp = exchange(server, timeouts, "GET", "/", probe_fields(probe_id, action))
    expect_status(resp, 200)
    return probe_id


def request_gone(server: ServerHandle, timeouts: Timeouts) -> str:
    """PROFILE §3.8/2: a `stream` response left after its head and 64 KiB, by a reset."""
    __tracebackhide__ = True
    probe_id = new_id("stream")
    with server.connect("GET / stream, left mid-body") as conn:
        conn.send(request("GET", "/", host(server), probe_fields(probe_id, "stream")))
        deadline = Deadline(timeouts(REPLY))
        resp = read_head(conn, deadline, "the head of the stream response")
        expect_status(resp, 200)
        conn.recv_exactly(STREAM_ITEM_SIZE, timeout=deadline.left(), what="64 KiB of the body")
        conn.reset()
    return probe_id


def expect_record(
    log: Path, probe_id: str, timeout: float, when: str, finished: bool | None
) -> float:
    """Wait for the close() record of ``probe_id``; the seconds it took."""
    __tracebackhide__ = True
    start = time.monotonic()
    found = wait_for_record(log, probe_id, timeout)
    waited = time.monotonic() - start
    expect(
        bool(found) and (finished is None or found[0].get("finished") is finished),
        expected=f"close() called {when}, within {timeout:.1f} s"
        + (" after the iteration finished" if finished else ""),
        actual=f"no close() record for {probe_id} after {waited:.1f} s"
        if not found
        else f"close() record {found[0]}",
    )
    return waited


@case("wsgi/3.8/1", MUST, CLOSE_RULE, rfc="PEP 3333 §Specification Details")
@pytest.mark.parametrize("action", COMPLETE_ACTIONS)
def test_close_after_body(server: ServerHandle, timeouts: Timeouts, action: str) -> None:
    log = log_of(server)
    probe_id = request_complete(server, timeouts, action)
    expect_record(log, probe_id, timeouts(CLOSE_WAIT), "after the body was sent", True)


@case("wsgi/3.8/2", MUST, CLOSE_RULE, rfc="PEP 3333 §Specification Details")
def test_close_after_disconnect(
    server: ServerHandle, timeouts: Timeouts, record: CaseRecord
) -> None:
    log = log_of(server)
    probe_id = request_gone(server, timeouts)
    waited = expect_record(log, probe_id, timeouts(GONE_WAIT), "after the client went away", None)
    record.measure("close() after the reset, s", round(waited, 3))


@case("wsgi/3.8/3", MUST, CLOSE_RULE, rfc="PEP 3333 §Specification Details")
def test_close_once(server: ServerHandle, timeouts: Timeouts) -> None:
    log = log_of(server)
    ids = [request_complete(server, timeouts, action) for action in COMPLETE_ACTIONS]
    ids.append(request_gone(server, timeouts))
    deadline = Deadline(timeouts(CLOSE_WAIT))  # one wait for all: a missing record is not judged
    for probe_id in ids:
        wait_for_record(log, probe_id, deadline.left())
    time.sleep(timeouts(SECOND_WAIT))
    counts = {probe_id: len(records_for(log, probe_id)) for probe_id in ids}
    expect(
        all(count <= 1 for count in counts.values()),
        expected="at most one close() record per response",
        actual=", ".join(f"{probe_id}: {count}" for probe_id, count in counts.items()),
    )


# -- 3.9 Application errors ------------------------------------------------------------------------
def request_raise(server: ServerHandle, timeouts: Timeouts) -> Response:
    __tracebackhide__ = True
    return exchange(server, timeouts, "GET", "/", probe_fields(new_id("raise"), "raise"))


@case(
    "wsgi/3.9/1",
    SHOULD,
    "An exception raised by the application before it calls start_response SHOULD give a 500 "
    "response.",
    rfc="RFC 9110 §15.6.1",
)
def test_error_gives_500(server: ServerHandle, timeouts: Timeouts) -> None:
    expect_status(request_raise(server, timeouts), 500)


MIDWAY_RULE = (
    "When the application raises after the response has begun, the server MUST NOT present what "
    "was sent as a complete response: it ends the connection without the last chunk (or answers "
    "500 if nothing was sent yet)."
)


@case("wsgi/3.9/3", MUST, MIDWAY_RULE, rfc="RFC 9112 §8")
def test_error_midway_is_not_a_complete_body(server: ServerHandle, timeouts: Timeouts) -> None:
    fields = probe_fields(new_id("midway"), "fail-midway")
    with server.connect("GET / fail-midway") as conn:
        conn.send(request("GET", "/", host(server), fields, close=False))
        deadline = Deadline(timeouts(REPLY))
        resp = read_head(conn, deadline, "the response head")
        if resp.status >= 500:
            return  # nothing had been sent: an error response is the honest answer
        codings = ",".join(resp.all("Transfer-Encoding")).lower()
        if not codings and not resp.all("Content-Length"):
            # A body delimited by the close cannot say it was cut (RFC 9112 §6.3 rule 8).
            conn.recv_until_eof(limit=1 << 20, timeout=deadline.left(), what="the close")
            return
        try:
            read_body(conn, resp, deadline, "the body")
        except ConformanceFailure:
            conn.wait_readable(lambda _buffer: False, timeout=deadline.left())  # until the end
            expect(
                conn.eof,
                expected="the connection ended after the partial body",
                actual="the connection was left open after the partial body",
            )
            return
    raise ConformanceFailure(
        "a body left incomplete (no last chunk) and the connection closed: the application "
        "failed after 3 items",
        f"{resp.summary()}, framed as a complete body ({resp.framing}): {describe(resp.body, 80)}",
    )


@case("wsgi/3.9/2", MUST, "The server MUST go on serving other requests.")
def test_serves_after_error(server: ServerHandle, timeouts: Timeouts) -> None:
    with contextlib.suppress(ConformanceFailure):
        request_raise(server, timeouts)  # judged by 3.9/1
    report = echo(server, timeouts)
    expect_environ(report, "REQUEST_METHOD", "GET")


# -- 3.10 Concurrent clients -----------------------------------------------------------------------
@case(
    "wsgi/3.10/1",
    SHOULD,
    "A server SHOULD serve a client while another client's request is still arriving.",
    rfc="RFC 9112 §9.3",
)
def test_stalled_client_delays_no_one(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("stalls after its request line") as stalled:
        stalled.send(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        try:
            report = echo(server, timeouts)
        except ConformanceFailure as exc:
            raise ConformanceFailure(
                "a response to another client while the first stalls",
                f"none within {timeouts(REPLY):.1f} s: {exc.actual}",
            ) from None
        expect_environ(report, "REQUEST_METHOD", "GET")
        waited = time.monotonic() - started
        expect(
            waited < timeouts(STALL_WAIT),
            expected=f"the other client answered within {timeouts(STALL_WAIT):.0f} s",
            actual=f"answered after {waited:.2f} s",
        )
