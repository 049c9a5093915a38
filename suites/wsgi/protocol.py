"""The judge's own HTTP/1.1 and probe helpers for wsgi.server (wsgi PROFILE §1.5, §3).

Requests are built as raw octets; responses are read by their framing (RFC 9112 §6.3): no body,
`Content-Length`, chunked coding (each chunk's size kept, for §3.7/4), or the close. The probe's
close() records (PROFILE §1.5) are read from the log file the suite names.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wirecheck import ConformanceFailure, TcpConnection
from wirecheck.wire import describe

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
HEAD_LIMIT = 64 * 1024  # octets of a response's status line and header section
BODY_LIMIT = 16 * 1024 * 1024  # octets of one response body
CHUNK_LINE_LIMIT = 1024
STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3}) ?([^\r\n]*)")
CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;[^\r\n]*)?")
NO_BODY_STATUS = (204, 304)

# PROFILE §1.5: the request fields that steer the probe, and its close() log.
ACTION = "X-Probe-Action"
READ = "X-Probe-Read"
COUNT = "X-Probe-Count"
PROBE_ID = "X-Probe-Id"
LOG_VARIABLE = "WIRECHECK_PROBE_LOG"
LOG_NAME = "probe-close.log"
CHUNKS_DEFAULT = 100
HEADERS_STATUS = "202 Probe Accepted"
HEADERS_BODY = b"headers\n"
WRITE_BODY = b"write-1\nwrite-2\nreturned\n"
STREAM_ITEM_SIZE = 65536


def chunk_item(index: int) -> bytes:
    """PROFILE §1.5: item `index` of the chunks action; every item `i % 10 == 9` is empty."""
    return b"" if index % 10 == 9 else b"chunk %05d\n" % index


def chunks_body(count: int = CHUNKS_DEFAULT) -> bytes:
    return b"".join(chunk_item(i) for i in range(count))


def new_id(label: str) -> str:
    """A request label no other request of the run carries (the server is shared)."""
    return f"{label}-{secrets.token_hex(6)}"


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    framing: str = ""  # "length", "chunked", "close" or "none"
    chunks: list[int] = field(default_factory=list)  # chunk sizes, last chunk included
    raw_head: bytes = field(default=b"", repr=False)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def get(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def media_type(self) -> str:
        return (self.get("Content-Type") or "").split(";")[0].strip().lower()

    def status_line(self) -> str:
        return f"HTTP/{self.version} {self.status} {self.reason}"

    def summary(self) -> str:
        return f"{self.status_line()}, {len(self.body)} body octets ({self.framing})"


def request(
    method: str,
    target: str,
    host: str,
    fields: list[str],
    *,
    body: bytes = b"",
    close: bool = True,
) -> bytes:
    """A raw HTTP/1.1 request: request line, `Host`, the field lines, `Connection: close`
    (unless ``close`` is false, PROFILE §1.5), the blank line, then ``body`` as given."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *fields]
    if close:
        lines.append("Connection: close")
    return "\r\n".join(lines).encode("latin-1") + HEAD_END + body


def probe_fields(
    probe_id: str, action: str = "", *, read: str = "", count: int = 0, extra: tuple[str, ...] = ()
) -> list[str]:
    """The probe's steering fields (PROFILE §1.5), then ``extra`` field lines."""
    lines = [f"{PROBE_ID}: {probe_id}"]
    if action:
        lines.append(f"{ACTION}: {action}")
    if read:
        lines.append(f"{READ}: {read}")
    if count:
        lines.append(f"{COUNT}: {count}")
    return lines + list(extra)


def chunked(pieces: list[bytes], extensions: dict[int, str] | None = None) -> list[bytes]:
    """Each piece as one chunk (RFC 9112 §7.1), then the last chunk and the empty trailer."""
    out = []
    for i, piece in enumerate(pieces):
        ext = (extensions or {}).get(i, "")
        out.append(b"%x%s\r\n%s\r\n" % (len(piece), ext.encode("latin-1"), piece))
    out.append(b"0\r\n\r\n")
    return out


def parse_head(head: bytes) -> Response:
    lines = head[: -len(HEAD_END)].split(CRLF)
    match = STATUS_LINE.fullmatch(lines[0])
    if not match:
        raise ConformanceFailure(
            "a status line `HTTP/x.y NNN reason` (RFC 9112 §4)", describe(lines[0])
        )
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b" " in name:
            raise ConformanceFailure("a header field line `name: value`", describe(line))
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return Response(
        version=f"{match[1].decode()}.{match[2].decode()}",
        status=int(match[3]),
        reason=match[4].decode("latin-1"),
        headers=headers,
        raw_head=head,
    )


class Deadline:
    """The time left of one overall wait (PROFILE §1.5: up to 5 s for a complete response)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.001, self.end - time.monotonic())


def read_head(conn: TcpConnection, deadline: Deadline, what: str) -> Response:
    """The status line and fields of the next final response (1xx responses are skipped)."""
    __tracebackhide__ = True
    for _ in range(10):
        head = conn.recv_until(HEAD_END, limit=HEAD_LIMIT, timeout=deadline.left(), what=what)
        resp = parse_head(head)
        if not 100 <= resp.status < 200:
            return resp
    raise ConformanceFailure(what, "ten 1xx responses and no final one")


def read_body(
    conn: TcpConnection, resp: Response, deadline: Deadline, what: str, head_request: bool = False
) -> Response:
    """The body of ``resp`` by its framing (RFC 9112 §6.3)."""
    __tracebackhide__ = True
    if head_request or resp.status in NO_BODY_STATUS:
        resp.framing = "none"
        return resp
    codings = ",".join(resp.all("Transfer-Encoding")).lower()
    lengths = resp.all("Content-Length")
    if codings and lengths:
        # RFC 9112 §6.2: "A sender MUST NOT send a Content-Length header field in any message
        # that contains a Transfer-Encoding header field."
        raise ConformanceFailure(
            "Content-Length or Transfer-Encoding, never both (RFC 9112 §6.2)",
            f"Transfer-Encoding: {codings} and Content-Length: {', '.join(lengths)}",
        )
    if codings:
        if codings.split(",")[-1].strip() != "chunked":
            raise ConformanceFailure("a final transfer coding `chunked`", codings)
        resp.framing = "chunked"
        resp.body = read_chunked(conn, resp, deadline, what)
    elif lengths:
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            raise ConformanceFailure("one valid Content-Length", ", ".join(lengths))
        size = int(lengths[0])
        if size > BODY_LIMIT:
            raise ConformanceFailure(f"a body under {BODY_LIMIT} octets", f"Content-Length {size}")
        resp.framing = "length"
        resp.body = conn.recv_exactly(
            size, timeout=deadline.left(), what=f"{what}: the {size} octets of Content-Length"
        )
    else:
        resp.framing = "close"
        resp.body = conn.recv_until_eof(
            limit=BODY_LIMIT, timeout=deadline.left(), what=f"{what}: a body ended by the close"
        )
    return resp


def read_chunked(conn: TcpConnection, resp: Response, deadline: Deadline, what: str) -> bytes:
    __tracebackhide__ = True
    body = bytearray()
    for _ in range(1_000_000):
        line = conn.recv_until(
            CRLF, limit=CHUNK_LINE_LIMIT, timeout=deadline.left(), what=f"{what}: a chunk size"
        )
        match = CHUNK_SIZE.fullmatch(line[:-2])
        if not match:
            raise ConformanceFailure("a chunk-size line (RFC 9112 §7.1)", describe(line))
        size = int(match[1], 16)
        resp.chunks.append(size)
        if size == 0:
            for _ in range(1000):
                trailer = conn.recv_until(CRLF, limit=HEAD_LIMIT, timeout=deadline.left())
                if trailer == CRLF:
                    return bytes(body)
            raise ConformanceFailure("the end of the trailer section", "1000 trailer lines")
        if len(body) + size > BODY_LIMIT:
            raise ConformanceFailure(f"a body under {BODY_LIMIT} octets", "more")
        body += conn.recv_exactly(size, timeout=deadline.left(), what=f"a chunk of {size} octets")
        end = conn.recv_exactly(2, timeout=deadline.left(), what="CR LF after the chunk data")
        if end != CRLF:
            raise ConformanceFailure("CR LF after the chunk data", describe(end))
    raise ConformanceFailure("a last chunk", "too many chunks")


def read_response(
    conn: TcpConnection, timeout: float, *, what: str = "a response", head_request: bool = False
) -> Response:
    """One complete response, read by its framing within ``timeout`` seconds in all."""
    __tracebackhide__ = True
    deadline = Deadline(timeout)
    resp = read_head(conn, deadline, what)
    return read_body(conn, resp, deadline, what, head_request)


def report_of(resp: Response) -> dict[str, Any]:
    """The probe's report (PROFILE §1.5) in a 200 response to an `echo` request."""
    __tracebackhide__ = True
    if resp.status != 200:
        raise ConformanceFailure("200 and the probe's report", resp.summary())
    try:
        report = json.loads(resp.body)
    except ValueError:
        raise ConformanceFailure("the probe's JSON report", describe(resp.body)) from None
    if not isinstance(report, dict) or not {"environ", "types", "wsgi"} <= report.keys():
        raise ConformanceFailure("the probe's JSON report", describe(resp.body))
    return report


def body_read(report: dict[str, Any]) -> bytes:
    """The request body as the probe read it (PROFILE §1.5: `body_b64`)."""
    try:
        return base64.b64decode(report.get("body_b64", ""), validate=True)
    except (binascii.Error, TypeError):
        raise ConformanceFailure("the probe's report", "a body_b64 that is not base64") from None


def close_records(log: Path) -> list[dict[str, Any]]:
    """Every close() record of the probe so far (PROFILE §1.5); a half-written line is skipped."""
    try:
        text = log.read_text("utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            records.append(item)
    return records


def records_for(log: Path, probe_id: str) -> list[dict[str, Any]]:
    return [r for r in close_records(log) if r.get("id") == probe_id]


def wait_for_record(log: Path, probe_id: str, timeout: float) -> list[dict[str, Any]]:
    """The records of ``probe_id`` once there is one, or [] after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        found = records_for(log, probe_id)
        if found or time.monotonic() >= end:
            return found
        time.sleep(0.005)
