"""The judge's own HTTP/1.1 helpers (http PROFILE §1.4): raw requests and response reading."""

from __future__ import annotations

import base64
import re
import ssl
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from wirecheck import ConformanceFailure, TcpConnection
from wirecheck.wire import describe

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
HEAD_LIMIT = 64 * 1024  # octets of a response's status line and header section
BODY_LIMIT = 8 * 1024 * 1024  # octets of one response body (large.bin is 5,243,003)
STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3}) ([^\r\n]*)")
CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)(;[^\r\n]*)?")
NO_BODY_STATUS = (204, 304)

MEDIA_TYPES = {".html": "text/html", ".txt": "text/plain", ".bin": "application/octet-stream"}


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    framing: str = ""  # "length", "chunked", "close" or "none"
    raw_head: bytes = field(default=b"", repr=False)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def get(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def media_type(self) -> str:
        return (self.get("Content-Type") or "").split(";")[0].strip().lower()

    def closes(self) -> bool:
        tokens = ",".join(self.all("Connection")).lower()
        return "close" in [t.strip() for t in tokens.split(",")]

    def keep_alive(self) -> bool:
        tokens = ",".join(self.all("Connection")).lower()
        return "keep-alive" in [t.strip() for t in tokens.split(",")]

    def summary(self) -> str:
        return (
            f"HTTP/{self.version} {self.status} {self.reason}, {len(self.body)} body octets "
            f"({self.framing})"
        )


def request(
    method: str,
    target: str,
    host: str | None,
    *headers: str,
    body: bytes = b"",
    version: str = "HTTP/1.1",
) -> bytes:
    """A raw request: request line, `Host` (unless None), the given field lines, then body."""
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines.extend(headers)
    return "\r\n".join(lines).encode("utf-8") + HEAD_END + body


def host_of(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


def read_response(
    conn: TcpConnection, timeout: float, *, head_request: bool = False, what: str = ""
) -> Response:
    """Read one response by RFC 9112 §6.3: no body, Content-Length, chunked, or to the close."""
    __tracebackhide__ = True
    wanted = what or "a response"
    head = conn.recv_until(HEAD_END, limit=HEAD_LIMIT, timeout=timeout, what=wanted)
    if head.startswith(CRLF):  # an empty line before the status line is not a response
        raise ConformanceFailure(f"{wanted} starting with a status line", describe(head))
    resp = parse_head(head)
    if 100 <= resp.status < 200:
        return read_response(conn, timeout, head_request=head_request, what=what)
    if head_request or resp.status in NO_BODY_STATUS:
        resp.framing = "none"
        return resp
    codings = ",".join(resp.all("Transfer-Encoding")).lower()
    lengths = resp.all("Content-Length")
    if codings:
        if codings.split(",")[-1].strip() != "chunked":
            raise ConformanceFailure("a final transfer coding `chunked`", codings)
        resp.framing = "chunked"
        resp.body = read_chunked(conn, timeout, wanted)
    elif lengths:
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            raise ConformanceFailure("one valid Content-Length", ", ".join(lengths))
        size = int(lengths[0])
        if size > BODY_LIMIT:
            raise ConformanceFailure(f"a body under {BODY_LIMIT} octets", f"Content-Length {size}")
        resp.framing = "length"
        resp.body = conn.recv_exactly(
            size, timeout=timeout, what=f"the {size} body octets of Content-Length"
        )
    else:
        resp.framing = "close"
        resp.body = conn.recv_until_eof(
            limit=BODY_LIMIT, timeout=timeout, what="a body delimited by the close"
        )
    return resp


def read_chunked(conn: TcpConnection, timeout: float, wanted: str) -> bytes:
    __tracebackhide__ = True
    body = bytearray()
    for _ in range(100_000):
        line = conn.recv_until(CRLF, limit=1024, timeout=timeout, what=f"{wanted}: a chunk size")
        match = CHUNK_SIZE.fullmatch(line[:-2])
        if not match:
            raise ConformanceFailure("a chunk-size line (RFC 9112 §7.1)", describe(line))
        size = int(match[1], 16)
        if size == 0:
            while conn.recv_until(CRLF, limit=HEAD_LIMIT, timeout=timeout) != CRLF:
                pass  # trailer fields
            return bytes(body)
        if len(body) + size > BODY_LIMIT:
            raise ConformanceFailure(f"a body under {BODY_LIMIT} octets", "more")
        body += conn.recv_exactly(size, timeout=timeout, what=f"a chunk of {size} octets")
        end = conn.recv_exactly(2, timeout=timeout, what="CR LF after the chunk data")
        if end != CRLF:
            raise ConformanceFailure("CR LF after the chunk data", describe(end))
    raise ConformanceFailure("a last chunk", "too many chunks")


def http_date_ok(value: str) -> bool:
    """Whether ``value`` parses as an IMF-fixdate / HTTP-date (RFC 9110 §5.6.7)."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    return parsed.tzinfo is not None and value.rstrip().endswith("GMT")


def date_seconds(value: str) -> float:
    return parsedate_to_datetime(value).timestamp()


# -- the recording servers of the client cases (PROFILE §3) ---------------------------------------
REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^ \x00-\x1f\x7f]+) HTTP/(\d)\.(\d)")
FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
FORM_TYPE = "application/x-www-form-urlencoded"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass
class Request:
    """One request a recording server received, and where."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    server: str = ""  # host:port of the recording server that received it
    connection: int = 0  # the index of its connection among that server's connections

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def get(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def media_type(self) -> str:
        return (self.get("Content-Type") or "").split(";")[0].strip().lower()

    def cookies(self) -> list[str]:
        return [c.strip() for v in self.all("Cookie") for c in v.split(";") if c.strip()]

    def summary(self) -> str:
        return (
            f"{self.method} {self.target} {self.version} to {self.server} "
            f"(connection {self.connection + 1}, Host {self.all('Host')}, "
            f"{len(self.body)} body octets)"
        )


def read_request(conn: TcpConnection, idle: float, timeout: float) -> Request | None:
    """The next request on ``conn`` (RFC 9112 §2-§6), or None if the client closed or went quiet.

    A request that does not parse strictly raises ConformanceFailure: the client sent it.
    """
    __tracebackhide__ = True
    if not conn.wait_readable(lambda buffered: bool(buffered), timeout=idle):
        return None
    head = conn.recv_until(HEAD_END, limit=HEAD_LIMIT, timeout=timeout, what="a request head")
    lines = head[: -len(HEAD_END)].split(CRLF)
    match = REQUEST_LINE.fullmatch(lines[0])
    if not match:
        raise ConformanceFailure(
            "a request line `method SP request-target SP HTTP/1.1` (RFC 9112 §3)",
            describe(lines[0]),
        )
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not FIELD_NAME.fullmatch(name):
            raise ConformanceFailure(
                "a field line `name: value`, no whitespace before the colon (RFC 9112 §5)",
                describe(line),
            )
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    req = Request(
        method=match[1].decode(),
        target=match[2].decode("latin-1"),
        version=f"HTTP/{match[3].decode()}.{match[4].decode()}",
        headers=headers,
    )
    codings = ",".join(req.all("Transfer-Encoding")).lower()
    lengths = req.all("Content-Length")
    if codings and lengths:
        raise ConformanceFailure(
            "Content-Length or Transfer-Encoding, not both (RFC 9112 §6.2)", ", ".join(lengths)
        )
    if "100-continue" in (req.get("Expect") or "").lower():
        conn.send(CONTINUE)
    if codings:
        if codings.split(",")[-1].strip() != "chunked":
            raise ConformanceFailure("a final transfer coding `chunked`", codings)
        req.body = read_chunked(conn, timeout, "a chunked request body")
    elif lengths:
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            raise ConformanceFailure("one valid Content-Length", ", ".join(lengths))
        req.body = conn.recv_exactly(
            int(lengths[0]), timeout=timeout, what=f"the {lengths[0]} octets of the request body"
        )
    return req


def message(
    status: int, body: bytes = b"", *fields: str, reason: str | None = None, length: bool = True
) -> bytes:
    """A response: status line, the given field lines, `Content-Length` (if asked), body."""
    phrase = HTTPStatus(status).phrase if reason is None else reason
    lines = [f"HTTP/1.1 {status} {phrase}", *fields]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode("latin-1") + HEAD_END + body


def chunk(data: bytes, extension: str = "") -> bytes:
    return f"{len(data):x}{extension}".encode() + CRLF + data + CRLF


def accepts_gzip(values: list[str]) -> bool:
    """Whether Accept-Encoding lists gzip with a non-zero weight (RFC 9110 §12.5.3)."""
    for item in ",".join(values).split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip"):
            continue
        weight = params.strip().lower()
        if not weight.startswith("q="):
            return True
        try:
            return float(weight[2:]) > 0
        except ValueError:
            return False
    return False


def basic_value(user: str, password: str) -> str:
    """RFC 7617 §2: Base64 of the UTF-8 octets of user-id ":" password."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def carries_basic(req: Request, token: str) -> bool:
    scheme, _, value = (req.get("Authorization") or "").strip().partition(" ")
    return scheme.lower() == "basic" and value.strip() == token


def tls_server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx
