"""HTTP/1.1 origin server without sockets: a request parser and a response builder.

``RequestParser`` takes the octets a connection delivers and yields, in order, each complete
``Request`` or the ``ParseError`` that ends the connection. ``respond`` takes a request, the
docroot and the clock and returns the ``Response`` (head and body octets). server.py does the
socket work. Section numbers refer to suites/http/PROFILE.md.
"""

from __future__ import annotations

import email.utils
import os
import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote_to_bytes

# Limits: larger request lines get 414, larger field sections 431, larger bodies 413.
MAX_REQUEST_LINE: Final = 8192
MAX_FIELD_SECTION: Final = 65536
MAX_BODY: Final = 1 << 20
MAX_LEADING_BLANK: Final = 64

ALLOWED: Final = ("GET", "HEAD")
ALLOW_HEADER: Final = ", ".join(ALLOWED)
# Methods this server knows but does not allow on its files: they get 405.
KNOWN_METHODS: Final = frozenset({"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"})
SERVER_NAME: Final = "wirecheck-reference"

TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VERSION: Final = re.compile(rb"HTTP/([0-9])\.([0-9])")
HEAD_END: Final = re.compile(rb"\r?\n\r?\n")
RANGE: Final = re.compile(r"bytes=([0-9]*)-([0-9]*)")
CHUNK_SIZE: Final = re.compile(rb"([0-9A-Fa-f]{1,8})(;[^\r\n]*)?")

CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
}
DEFAULT_TYPE: Final = "application/octet-stream"
REASONS: Final = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


@dataclass
class Request:
    method: str
    target: str
    version: tuple[int, int]
    headers: list[tuple[str, str]]  # names lower-cased, in order
    body: bytes = b""
    must_close: bool = False  # framing was doubtful: answer, then close (profile 2.3)

    def get(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n == name]
        return ", ".join(values) if values else None

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.get("connection") or "").split(",")}
        if self.must_close or "close" in tokens:
            return False
        return self.version >= (1, 1) or "keep-alive" in tokens


@dataclass
class ParseError(Exception):
    status: int
    detail: str


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    close: bool = False
    send_body: bool = True

    def to_bytes(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, '')}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + self.body if self.send_body else head


@dataclass
class RequestParser:
    """Feed octets with ``feed``; take complete requests with ``next_request``."""

    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def next_request(self) -> Request | None:
        """The next complete request, None when more octets are needed; raises ParseError."""
        # RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
        # ignore at least one empty line (CRLF) received prior to the request-line."
        stripped = self.buffer.lstrip(b"\r\n")
        if len(self.buffer) - len(stripped) > MAX_LEADING_BLANK:
            raise ParseError(400, "too many blank lines")
        start = len(self.buffer) - len(stripped)
        end = HEAD_END.search(self.buffer, start)
        if end is None:
            line_end = self.buffer.find(b"\n", start)
            if line_end < 0:
                line_end = len(self.buffer)
            if line_end - start > MAX_REQUEST_LINE:
                raise ParseError(414, "request line too long")
            if len(self.buffer) - start > MAX_REQUEST_LINE + MAX_FIELD_SECTION:
                raise ParseError(431, "field section too large")
            return None
        head = bytes(self.buffer[start : end.start()])
        request = parse_head(head)
        body_start = end.end()
        body = self._body(request, body_start)
        if body is None:
            return None
        request.body, consumed = body
        del self.buffer[:consumed]
        return request

    def _body(self, request: Request, start: int) -> tuple[bytes, int] | None:
        te = request.get("transfer-encoding")
        lengths = request.get("content-length")
        if te is not None:
            # RFC 9112 §6.1: "If a Transfer-Encoding header field is present in a request and
            # the chunked transfer coding is not the final encoding, the message body length
            # cannot be determined reliably; the server MUST respond with the 400 (Bad Request)
            # status code and then close the connection."
            if te.split(",")[-1].strip().lower() != "chunked" or request.version < (1, 1):
                raise ParseError(400, "unusable Transfer-Encoding")
            # RFC 9112 §6.1: "A server MAY reject a request that contains both Content-Length
            # and Transfer-Encoding or process such a request in accordance with the
            # Transfer-Encoding alone." This server rejects it (400, then close).
            if lengths is not None:
                raise ParseError(400, "both Content-Length and Transfer-Encoding")
            return decode_chunked(self.buffer, start)
        if lengths is None:
            return b"", start
        values = {v.strip() for v in lengths.split(",")}
        # RFC 9112 §6.3: an invalid or disagreeing Content-Length is "an unrecoverable error";
        # "the server MUST respond with a 400 (Bad Request) status code and then close".
        if len(values) != 1 or not values.copy().pop().isdigit():
            raise ParseError(400, "invalid Content-Length")
        length = int(values.pop())
        if length > MAX_BODY:
            raise ParseError(413, "body too large")
        if len(self.buffer) - start < length:
            return None
        return bytes(self.buffer[start : start + length]), start + length


def decode_chunked(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """The decoded chunked body beginning at ``start`` and the offset after it, or None."""
    body = bytearray()
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        match = CHUNK_SIZE.fullmatch(buffer, pos, line_end)
        if match is None:
            raise ParseError(400, "bad chunk size")
        size = int(match.group(1), 16)
        pos = line_end + 2
        if size == 0:
            break
        if len(body) + size > MAX_BODY:
            raise ParseError(413, "body too large")
        if len(buffer) < pos + size + 2:
            return None
        if buffer[pos + size : pos + size + 2] != b"\r\n":
            raise ParseError(400, "bad chunk end")
        body += buffer[pos : pos + size]
        pos += size + 2
    while True:  # trailer section, ignored
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        done = line_end == pos
        pos = line_end + 2
        if done:
            return bytes(body), pos


def parse_head(head: bytes) -> Request:
    """A request from its request line and field lines (the blank line excluded)."""
    lines = [line.removesuffix(b"\r") for line in head.split(b"\n")]
    if len(lines[0]) > MAX_REQUEST_LINE:
        raise ParseError(414, "request line too long")
    if len(head) - len(lines[0]) > MAX_FIELD_SECTION:
        raise ParseError(431, "field section too large")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise ParseError(400, "malformed request line")
    version = VERSION.fullmatch(parts[2])
    if version is None:
        raise ParseError(400, "malformed HTTP version")
    major, minor = int(version.group(1)), int(version.group(2))
    if major != 1:
        # RFC 9110 §15.6.6: 505 "indicates that the server does not support, or refuses to
        # support, the major version of HTTP that was used in the request message."
        raise ParseError(505, "only HTTP/1.x")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 §5.2: obs-fold is rejected with 400 (one of the two choices given).
            raise ParseError(400, "obsolete line folding")
        name, colon, value = line.partition(b":")
        # RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad
        # Request), any received request message that contains whitespace between a header
        # field name and colon."
        if not colon or not TOKEN.fullmatch(name):
            raise ParseError(400, "malformed field line")
        headers.append((name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")))
    request = Request(parts[0].decode("ascii"), parts[1].decode("latin-1"), (1, minor), headers)
    hosts = [v for n, v in headers if n == "host"]
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message that lacks a Host header field and to any request message that
    # contains more than one Host header field line or a Host header field with an invalid
    # field value."
    if (minor >= 1 and not hosts) or len(hosts) > 1:
        raise ParseError(400, "Host missing or repeated")
    return request


def error_response(error: ParseError, now: float) -> Response:
    """The response to a request that could not be parsed; the connection then closes."""
    body = f"{error.status} {REASONS.get(error.status, '')}: {error.detail}\n".encode()
    headers = [
        *base_headers(now),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    return Response(error.status, headers, body, close=True)


def base_headers(now: float) -> list[tuple[str, str]]:
    # RFC 9110 §6.6.1: "An origin server with a clock ... MUST generate a Date header field"
    return [("Date", email.utils.formatdate(now, usegmt=True)), ("Server", SERVER_NAME)]


def resolve(docroot: str, target: str) -> str | None:
    """The file a request target names under ``docroot``, or None when it names none."""
    if target.startswith(("http://", "https://")):  # absolute-form
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    segments = decoded.split("/")
    # Profile 2.8: the server "MUST NOT serve any file outside {docroot}", however the path
    # is spelled: no "..", no backslash, no NUL, after percent-decoding.
    if any(s in ("..", ".") or "\\" in s or "\0" in s or ":" in s for s in segments):
        return None
    root = os.path.realpath(docroot)
    candidate = os.path.realpath(os.path.join(root, *[s for s in segments if s]))
    if os.path.commonpath([root, candidate]) != root or not os.path.isfile(candidate):
        return None
    return candidate


def content_type(path: str) -> str:
    return CONTENT_TYPES.get(os.path.splitext(path)[1].lower(), DEFAULT_TYPE)


def etag_matches(header: str, etag: str) -> bool:
    """Weak comparison of ``etag`` with the list in If-None-Match (RFC 9110 §13.1.2)."""
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(request: Request, etag: str, mtime: int) -> bool:
    """Whether the conditional GET/HEAD gets 304 (RFC 9110 §13.1.2, §13.1.3, §13.2.2)."""
    inm = request.get("if-none-match")
    if inm is not None:
        return etag_matches(inm, etag)
    ims = request.get("if-modified-since")
    if ims is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(ims).timestamp()
    except (TypeError, ValueError):
        return False
    return mtime <= since


def byte_range(request: Request, size: int, etag: str, modified: str) -> tuple[int, int] | None:
    """The single range (first, last) asked for, None for the whole file; raises for 416."""
    header = request.get("range")
    if header is None or request.method != "GET":
        return None
    if_range = request.get("if-range")
    if if_range is not None and if_range.strip() not in (etag, modified):
        return None
    match = RANGE.fullmatch(header.replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None  # unparseable or several ranges: the whole file (RFC 9110 §14.2 MAY ignore)
    first_text, last_text = match.groups()
    if first_text == "":
        first, last = max(0, size - int(last_text)), size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or first > last:
        raise ParseError(416, "range not satisfiable")
    return first, last


def respond(request: Request, docroot: str, now: float) -> Response:
    """The response to a well-formed request."""
    headers = base_headers(now)
    close = not request.keep_alive
    if close:
        headers.append(("Connection", "close"))

    def simple(status: int, text: str, extra: list[tuple[str, str]] | None = None) -> Response:
        body = text.encode()
        fields = headers + (extra or []) + [("Content-Type", "text/plain; charset=utf-8")]
        fields.append(("Content-Length", str(len(body))))
        return Response(status, fields, body, close, request.method != "HEAD")

    if request.method not in ALLOWED:
        if request.method in KNOWN_METHODS:
            # RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in a
            # 405 response containing a list of the target resource's currently supported
            # methods."
            return simple(405, "405 Method Not Allowed\n", [("Allow", ALLOW_HEADER)])
        # RFC 9110 §9.1: "An origin server that receives a request method that is
        # unrecognized or not implemented SHOULD respond with the 501 (Not Implemented)".
        return simple(501, "501 Not Implemented\n")
    path = resolve(docroot, request.target)
    if path is None:
        return simple(404, "404 Not Found\n")
    stat = os.stat(path)
    mtime = int(stat.st_mtime)
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    modified = email.utils.formatdate(mtime, usegmt=True)
    validators = [("ETag", etag), ("Last-Modified", modified), ("Accept-Ranges", "bytes")]
    if not_modified(request, etag, mtime):
        # RFC 9110 §15.4.5: "A 304 response is terminated by the end of the header section;
        # it cannot contain content or trailers."
        return Response(304, headers + validators, b"", close, False)
    try:
        span = byte_range(request, stat.st_size, etag, modified)
    except ParseError:
        return simple(
            416, "416 Range Not Satisfiable\n", [("Content-Range", f"bytes */{stat.st_size}")]
        )
    with open(path, "rb") as file:
        if span is None:
            body = file.read() if request.method == "GET" else b""
            length = stat.st_size
        else:
            file.seek(span[0])
            length = span[1] - span[0] + 1
            body = file.read(length)
    fields = headers + validators + [("Content-Type", content_type(path))]
    # RFC 9110 §8.6: Content-Length is "the number of octets" of the content.
    fields.append(("Content-Length", str(length)))
    if span is None:
        return Response(200, fields, body, close, request.method == "GET")
    fields.append(("Content-Range", f"bytes {span[0]}-{span[1]}/{stat.st_size}"))
    return Response(206, fields, body, close, True)
