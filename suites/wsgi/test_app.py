"""wsgi.app: the time application of chapter 10, called directly (wsgi PROFILE §1.4, §2).

Every case runs the suite's own ``apphost.py`` in a fresh process in the implementation's folder:
it imports ``{module}``, calls the application once under ``wsgiref.validate`` and a recording
``start_response``, and reports what happened as JSON. The judging is done here.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from wirecheck import MUST, CaseRecord, ClientRunner, ConformanceFailure, case, expect

pytestmark = pytest.mark.role("wsgi.app")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

APPHOST = Path(__file__).with_name("apphost.py")
RESULT_PREFIX = b"WIRECHECK-APPHOST "  # apphost.py's result line
CALL_LIMIT = 10.0  # profile §1.4: "a call that lasts more than 10 s fails the case"
HOST = "127.0.0.1"
HOST_PORT = "127.0.0.1:8000"  # profile §1.4: "a request on 127.0.0.1:8000"
SERVER_NAME = "localhost"  # profile §1.4: the server's own name, not the Host field
SERVER_PORT = "8000"
POST_BODY = b"hello"
TIME_SLACK = 60.0  # profile §2.2/2: "within one minute"
CLOCK = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)")

PROTOCOL_RULE = (
    "The application MUST follow PEP 3333 on every request: it MUST call `start_response` "
    "exactly once (a second call only with `exc_info`, after an error) before the first body "
    "item is handed out, with a native string status of the form `999 Reason` and a list of "
    "`(name, value)` tuples of native strings, and it MUST return an iterable whose every item "
    "is a `bytes` object."
)
LENGTH_RULE = "A `Content-Length` it sends MUST be the number of body octets."
TIME_RULE = (
    "`GET /` with `Host: 127.0.0.1` MUST get `200`, media type `text/plain` with "
    "`charset=utf-8`, and a body that decodes as UTF-8 and shows the current year and the "
    "current time as `HH:MM` (24-hour, local time or UTC)."
)
METHOD_RULE = "A request with any method other than `GET` MUST get `501`."
HOST_RULE = (
    "A request for another host, or another path, MUST get `404`. The host is compared without "
    "its port: `127.0.0.1:8000` is `127.0.0.1`. The query string MUST NOT change the answer."
)


# -- running the application -----------------------------------------------------------------------
@dataclasses.dataclass
class Request:
    method: str = "GET"
    path: str = "/"
    query: str = ""
    host: str = HOST
    body: bytes = b""

    def environ(self) -> dict[str, str]:
        """The CGI variables of profile §1.4 (apphost adds the wsgi.* entries)."""
        env = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path,
            "QUERY_STRING": self.query,
            "SERVER_NAME": SERVER_NAME,
            "SERVER_PORT": SERVER_PORT,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self.host,
        }
        if self.body:
            env["CONTENT_TYPE"] = "text/plain"
            env["CONTENT_LENGTH"] = str(len(self.body))
        return env

    def line(self) -> str:
        target = self.path + (f"?{self.query}" if self.query else "")
        return f"{self.method} {target} (HTTP_HOST {self.host})"


@dataclasses.dataclass
class Outcome:
    """What apphost reported for one call, and when the suite ran it."""

    request: Request
    report: dict[str, Any]
    started: float
    ended: float

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self.report.get("result", {})
        return result

    @property
    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.result.get("calls", [])
        return calls

    @property
    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.result.get("items", [])
        return items

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.result.get("body_b64", ""))

    @property
    def status(self) -> str:
        return str(self.calls[-1]["status"]) if self.calls else ""

    @property
    def code(self) -> str:
        return self.status.split(" ", 1)[0]

    def headers(self, name: str) -> list[str]:
        """The values of the header field ``name`` the (last) start_response call gave."""
        if not self.calls or not isinstance(self.calls[-1]["headers"], list):
            return []
        return [
            str(h[1])
            for h in self.calls[-1]["headers"]
            if isinstance(h, list) and str(h[0]).lower() == name.lower()
        ]


def response_text(out: Outcome) -> str:
    """The response as people read it: each start_response call, the body, what went wrong."""
    res = out.result
    lines = []
    for n, call in enumerate(out.calls, 1):
        how = " with exc_info" if call["exc_info"] else ""
        lines.append(f"start_response #{n}{how}: {call['status']!r}")
        headers = call["headers"]
        for h in headers if isinstance(headers, list) else [headers]:
            lines.append(f"  {h[0]}: {h[1]}" if isinstance(h, list) else f"  {h}")
    if not out.calls:
        lines.append("start_response was not called")
    wrong = res.get("not_bytes")
    types = sorted({str(i["type"]) for i in out.items} | ({str(wrong["type"])} if wrong else set()))
    lines.append(
        f"body: {res.get('item_count', 0)} item(s) of type {', '.join(types) or '-'}, "
        f"{res.get('body_octets', 0)} octets"
        + (" (read no further)" if res.get("truncated") else "")
    )
    if wrong:
        lines.append(f"  a {wrong['type']} item ({wrong['source']}): {wrong['repr']}")
    if out.body:
        text = out.body[:600].decode("utf-8", "replace").rstrip("\n")
        lines.append("  " + text.replace("\n", "\n  "))
    lines.append(f"iterable's close(): {res.get('app_close')}")
    if res.get("exception"):
        exc = res["exception"]
        who = "wsgiref.validate" if exc["by_validate"] else "the application"
        lines.append(f"{who} raised {exc['type']}: {exc['message']}")
    lines += [f"warning: {w}" for w in res.get("warnings", [])]
    if res.get("errors_text"):
        lines.append(f"wsgi.errors: {res['errors_text']!r}")
    return "\n".join(lines)


def call_app(client: ClientRunner, record: CaseRecord, request: Request) -> Outcome:
    """Run the application once on ``request`` in a fresh process (profile §1.4)."""
    __tracebackhide__ = True
    module = client.options.get("module", "")
    expect(bool(module), expected='the role given as module = "module:callable"', actual="none")
    channel = record.transcript.open_channel("wsgi", "suite", module, request.line())
    channel.decoder = lambda data: data.decode("utf-8", "replace")
    environ = request.environ()
    sent = "\n".join(f"{k}: {v}" for k, v in environ.items())
    if request.body:
        sent += f"\nwsgi.input: {request.body!r}"
    record.transcript.record(channel, ">", sent.encode(), note="request environ")
    nonce = secrets.token_hex(8)  # marks apphost's result line: the application cannot know it
    wire = json.dumps(
        {"environ": environ, "body_b64": base64.b64encode(request.body).decode(), "nonce": nonce}
    )
    started = time.time()
    run = client.run(
        program=["{python}", str(APPHOST), module, base64.b64encode(wire.encode()).decode()],
        timeout=CALL_LIMIT,
    )
    ended = time.time()
    if run.timed_out:
        raise ConformanceFailure(
            f"the call ends within {CALL_LIMIT:.0f} s (profile §1.4)",
            f"still running after {run.duration:.1f} s",
        )
    marker = RESULT_PREFIX + nonce.encode() + b" "
    line = next((ln for ln in reversed(run.stdout.splitlines()) if ln.startswith(marker)), b"")
    if not line:
        raise ConformanceFailure(
            "the application returns to its caller (profile §1.4)",
            f"the hosting process ended ({run.status}) without a result; stderr: "
            f"{run.stderr[-600:]!r}",
        )
    report: dict[str, Any] = json.loads(line[len(marker) :])
    if "import_error" in report:
        err = report["import_error"]
        record.transcript.note(channel, f"import failed: {err['type']}: {err['message']}")
        raise ConformanceFailure(
            f"{module} imports in the implementation's folder (profile §1.4)",
            f"{err['type']}: {err['message']}",
            note=err["traceback"][-1500:],
        )
    out = Outcome(request, report, started, ended)
    record.transcript.record(channel, "<", response_text(out).encode(), note="response")
    return out


# -- the rules of 2.1, for every case -------------------------------------------------------------
def check_ran(out: Outcome) -> None:
    """The application did not raise (profile §1.4: an exception fails the case)."""
    __tracebackhide__ = True
    exc = out.result.get("exception")
    if exc and not exc["by_validate"]:
        raise ConformanceFailure(
            "the application answers without raising an exception",
            f"it raised {exc['type']}: {exc['message']}",
            note=exc["traceback"][-1500:],
        )


def check_validate(out: Outcome) -> None:
    __tracebackhide__ = True
    check_ran(out)
    closing = out.result.get("close_exception")
    if closing and not closing["by_validate"]:
        raise ConformanceFailure(
            "the iterable's close() returns without raising an exception",
            f"it raised {closing['type']}: {closing['message']}",
            note=closing["traceback"][-1500:],
        )
    exc = out.result.get("exception") or closing
    if exc:
        raise ConformanceFailure(
            "wsgiref.validate finds nothing wrong (PEP 3333)",
            f"it raised {exc['type']}: {exc['message']}",
            note=exc["traceback"][-1500:],
        )


def check_one_start_response(out: Outcome) -> None:
    __tracebackhide__ = True
    check_ran(out)
    calls = out.calls
    expect(bool(calls), expected="start_response called once", actual="start_response never called")
    again = [c for c in calls[1:] if not c["exc_info"]]
    expect(
        not again,
        expected="start_response called exactly once (a second call only with exc_info)",
        actual=f"called {len(calls)} times: "
        + ", then ".join(
            f"{c['status']!r}{' with exc_info' if c['exc_info'] else ' without exc_info'}"
            for c in calls
        ),
    )


def check_bytes_items(out: Outcome) -> None:
    __tracebackhide__ = True
    check_ran(out)
    wrong = out.result.get("not_bytes")
    expect(
        not wrong,
        expected="every body item is bytes",
        actual=f"a {wrong['type']} item ({wrong['source']}): {wrong['repr']}" if wrong else "",
    )


def check_length(out: Outcome) -> None:
    __tracebackhide__ = True
    check_ran(out)
    lengths = out.headers("Content-Length")
    if not lengths or out.result.get("not_bytes"):
        return  # no Content-Length, or no octets to count (the item types are judged elsewhere)
    octets = int(out.result.get("body_octets", 0))
    expect(
        all(v.strip() == str(octets) for v in lengths),
        expected=f"Content-Length: {octets} (the body's octets)",
        actual=f"Content-Length: {', '.join(lengths)}",
    )


def check_rules(out: Outcome) -> None:
    """Profile §2.1: every case of 2.2–2.4 also holds its call to the rules of 2.1."""
    __tracebackhide__ = True
    check_one_start_response(out)
    check_bytes_items(out)
    check_length(out)
    check_validate(out)


def check_status(out: Outcome, code: str) -> None:
    __tracebackhide__ = True
    check_rules(out)
    expect(out.code == code, expected=f"status {code}", actual=f"status {out.status!r}")


# -- §2.1 The WSGI protocol ------------------------------------------------------------------------
@case("wsgi/2.1/1", MUST, PROTOCOL_RULE)
def test_validate_finds_nothing(client: ClientRunner, record: CaseRecord) -> None:
    out = call_app(client, record, Request(host=HOST_PORT))
    check_validate(out)


@case("wsgi/2.1/2", MUST, PROTOCOL_RULE)
@pytest.mark.parametrize("method", [pytest.param("GET", id="get"), pytest.param("POST", id="post")])
def test_start_response_once(client: ClientRunner, record: CaseRecord, method: str) -> None:
    body = POST_BODY if method == "POST" else b""
    out = call_app(client, record, Request(method=method, body=body))
    check_one_start_response(out)


@case("wsgi/2.1/3", MUST, PROTOCOL_RULE)
@pytest.mark.parametrize(
    "path", [pytest.param("/", id="root"), pytest.param("/nowhere", id="nowhere")]
)
def test_items_are_bytes(client: ClientRunner, record: CaseRecord, path: str) -> None:
    out = call_app(client, record, Request(path=path))
    check_bytes_items(out)


@case("wsgi/2.1/4", MUST, LENGTH_RULE)
@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request(), id="get-root"),
        pytest.param(Request(method="POST", body=POST_BODY), id="post-root"),
        pytest.param(Request(path="/nowhere"), id="get-nowhere"),
    ],
)
def test_content_length(client: ClientRunner, record: CaseRecord, request_: Request) -> None:
    out = call_app(client, record, request_)
    check_length(out)


# -- §2.2 The time ---------------------------------------------------------------------------------
def media_type(value: str) -> tuple[str, dict[str, str]]:
    kind, *params = value.split(";")
    parsed = {}
    for param in params:
        name, _, val = param.partition("=")
        parsed[name.strip().lower()] = val.strip().strip('"')
    return kind.strip().lower(), parsed


@case("wsgi/2.2/1", MUST, TIME_RULE)
def test_time_status_and_type(client: ClientRunner, record: CaseRecord) -> None:
    out = call_app(client, record, Request())
    check_status(out, "200")
    types = out.headers("Content-Type")
    expect(bool(types), expected="a Content-Type text/plain; charset=utf-8", actual="none")
    kind, params = media_type(types[0])
    expect(
        kind == "text/plain" and params.get("charset", "").lower() == "utf-8",
        expected="media type text/plain with charset=utf-8",
        actual=f"Content-Type: {types[0]}",
    )


def allowed_clocks(out: Outcome) -> tuple[set[str], set[str]]:
    """The years and HH:MM readings the clause allows: local time (the suite's and the
    application's), or UTC, from a minute before the call to a minute after it."""
    offset = int(out.result.get("utc_offset", 0))
    years, clocks = set(), set()
    moment = out.started - TIME_SLACK
    while moment <= out.ended + TIME_SLACK + 30:
        for t in (time.localtime(moment), time.gmtime(moment), time.gmtime(moment + offset)):
            years.add(f"{t.tm_year:04d}")
            clocks.add(f"{t.tm_hour:02d}:{t.tm_min:02d}")
        moment += 30
    return years, clocks


@case("wsgi/2.2/2", MUST, TIME_RULE)
def test_time_shows_now(client: ClientRunner, record: CaseRecord) -> None:
    out = call_app(client, record, Request())
    check_status(out, "200")
    try:
        text = out.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConformanceFailure("a body that decodes as UTF-8", f"{exc}: {out.body!r}") from None
    years, clocks = allowed_clocks(out)
    shown = [f"{int(h):02d}:{m}" for h, m in CLOCK.findall(text)]
    record.note(f"HH:MM allowed (local or UTC, ±1 min): {', '.join(sorted(clocks))}")
    expect(
        any(y in text for y in years) and any(c in clocks for c in shown),
        expected=f"the year ({' or '.join(sorted(years))}) and the time as HH:MM, one of "
        f"{', '.join(sorted(clocks))}",
        actual=f"{text[:200]!r}",
    )


@case("wsgi/2.2/3", MUST, HOST_RULE)
@pytest.mark.parametrize(
    "host",
    [pytest.param(HOST_PORT, id="port-8000"), pytest.param("127.0.0.1:65535", id="port-65535")],
)
def test_time_host_with_port(client: ClientRunner, record: CaseRecord, host: str) -> None:
    check_status(call_app(client, record, Request(host=host)), "200")


@case("wsgi/2.2/4", MUST, HOST_RULE)
@pytest.mark.parametrize(
    "query", [pytest.param("format=iso&x=%20", id="format-iso"), pytest.param("x", id="bare-x")]
)
def test_time_query_ignored(client: ClientRunner, record: CaseRecord, query: str) -> None:
    check_status(call_app(client, record, Request(query=query)), "200")


# -- §2.3 Methods ----------------------------------------------------------------------------------
@case("wsgi/2.3/1", MUST, METHOD_RULE, rfc="RFC 9110 §15.6.2")
def test_post_501(client: ClientRunner, record: CaseRecord) -> None:
    check_status(call_app(client, record, Request(method="POST", body=POST_BODY)), "501")


@case("wsgi/2.3/2", MUST, METHOD_RULE, rfc="RFC 9110 §15.6.2")
@pytest.mark.parametrize(
    "method", [pytest.param("PUT", id="put"), pytest.param("DELETE", id="delete")]
)
def test_put_delete_501(client: ClientRunner, record: CaseRecord, method: str) -> None:
    check_status(call_app(client, record, Request(method=method)), "501")


@case("wsgi/2.3/3", MUST, METHOD_RULE, rfc="RFC 9110 §15.6.2")
def test_unknown_method_501(client: ClientRunner, record: CaseRecord) -> None:
    check_status(call_app(client, record, Request(method="BREW")), "501")


# -- §2.4 Hosts and paths --------------------------------------------------------------------------
@case("wsgi/2.4/1", MUST, HOST_RULE, rfc="RFC 9110 §7.2")
@pytest.mark.parametrize(
    "host",
    [
        pytest.param("localhost", id="localhost"),
        pytest.param("localhost:8000", id="localhost-8000"),
        pytest.param("127.0.0.10", id="127.0.0.10"),
        pytest.param("127.0.0.1.example", id="127.0.0.1.example"),
    ],
)
def test_other_host_404(client: ClientRunner, record: CaseRecord, host: str) -> None:
    check_status(call_app(client, record, Request(host=host)), "404")


@case("wsgi/2.4/2", MUST, HOST_RULE)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/time", id="time"),
        pytest.param("/index.html", id="index.html"),
        pytest.param("//", id="double-slash"),
    ],
)
def test_other_path_404(client: ClientRunner, record: CaseRecord, path: str) -> None:
    check_status(call_app(client, record, Request(path=path)), "404")


@case("wsgi/2.4/3", MUST, HOST_RULE)
@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        pytest.param("/nowhere", "x=1", "404", id="nowhere-query"),
        pytest.param("/", "path=/x", "200", id="root-query"),
    ],
)
def test_query_does_not_route(
    client: ClientRunner, record: CaseRecord, path: str, query: str, code: str
) -> None:
    check_status(call_app(client, record, Request(path=path, query=query)), code)
