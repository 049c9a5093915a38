"""Sans-IO core of the reference WSGI server: request heads, the environ, chunked bodies and
response heads, as pure functions and classes over bytes (no sockets).

Section numbers refer to suites/wsgi/PROFILE.md; PEP 3333 is the WSGI specification.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote_to_bytes, urlsplit

CRLF: Final = b"\r\n"
HEAD_END: Final = b"\r\n\r\n"
MAX_HEAD: Final = 64 * 1024  # octets of request line plus fields
MAX_CHUNK_LINE: Final = 4096
HTTP_11: Final = "HTTP/1.1"
HTTP_10: Final = "HTTP/1.0"
TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
VERSION: Final = re.compile(r"HTTP/1\.[0-9]")
STATUS: Final = re.compile(r"[1-9][0-9][0-9] [^\r\n]*")
HEX: Final = re.compile(rb"[0-9A-Fa-f]+")
NO_BODY_STATUSES: Final = frozenset({204, 304})


class HttpError(Exception):
    """The request cannot be served: answer with `status` and close the connection."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


BAD_REQUEST: Final = "400 Bad Request"
HEAD_TOO_LARGE: Final = "431 Request Header Fields Too Large"
NOT_IMPLEMENTED: Final = "501 Not Implemented"
VERSION_NOT_SUPPORTED: Final = "505 HTTP Version Not Supported"
SERVER_ERROR: Final = "500 Internal Server Error"


@dataclass
class RequestHead:
    method: str
    target: str
    version: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key.lower() == name.lower()]


def head_length(buffer: bytes) -> int | None:
    """Octets of the request head at the start of `buffer` (with its blank line), or None."""
    # RFC 9112 §2.2: a server "SHOULD ignore at least one empty line (CRLF) received prior to
    # the request-line"; the edge strips those before calling this.
    end = buffer.find(HEAD_END)
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise HttpError(HEAD_TOO_LARGE)
        return None
    return end + len(HEAD_END)


def parse_head(head: bytes) -> RequestHead:
    """The request line and fields of one request head (ending with its blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise HttpError(BAD_REQUEST)
    method, target, version = parts
    if not VERSION.fullmatch(version):
        raise HttpError(VERSION_NOT_SUPPORTED if version.startswith("HTTP/") else BAD_REQUEST)
    request = RequestHead(method, target, version)
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        # RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad
        # Request), any received request message that contains whitespace between a header
        # field name and colon." Obsolete folding (a leading space) is rejected the same way.
        if not colon or not TOKEN.fullmatch(name):
            raise HttpError(BAD_REQUEST)
        request.fields.append((name, value.strip(" \t")))
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message that lacks a Host header field".
    if version == HTTP_11 and len(request.get_all("Host")) != 1:
        raise HttpError(BAD_REQUEST)
    return request


@dataclass(frozen=True)
class Framing:
    """How the request body is delimited: a length, or chunked (length None)."""

    length: int | None
    chunked: bool = False


def body_framing(request: RequestHead) -> Framing:
    codings = ",".join(request.get_all("Transfer-Encoding")).strip()
    lengths = {value.strip() for value in ",".join(request.get_all("Content-Length")).split(",")}
    lengths.discard("")
    if codings:
        # RFC 9112 §6.3: a request with both Transfer-Encoding and Content-Length "ought to be
        # handled as an error"; this server refuses it (400) and closes.
        if lengths:
            raise HttpError(BAD_REQUEST)
        if codings.lower() != "chunked":
            raise HttpError(NOT_IMPLEMENTED)
        return Framing(None, chunked=True)
    if len(lengths) > 1 or not all(value.isdigit() for value in lengths):
        raise HttpError(BAD_REQUEST)
    return Framing(int(lengths.pop()) if lengths else 0)


def _cgi_name(field_name: str) -> str:
    return "HTTP_" + field_name.upper().replace("-", "_")


def build_environ(
    request: RequestHead,
    server_name: str,
    server_port: int,
    remote_addr: str,
    chunked: bool,
) -> dict[str, object]:
    """The CGI part of the environ (PEP 3333 "environ Variables"); the edge adds wsgi.*."""
    target = request.target
    if not target.startswith("/"):
        target = urlsplit(target).path or "/"  # absolute-form: keep its path
        query = urlsplit(request.target).query
    else:
        target, _, query = target.partition("?")
    environ: dict[str, object] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        # Profile 3.1: "PATH_INFO MUST be the percent-decoded path of the request target, held
        # as a native str whose code points are the decoded octets (latin-1)."
        "PATH_INFO": unquote_to_bytes(target).decode("latin-1"),
        # Profile 3.1: QUERY_STRING "MUST be the query of the request target, not decoded".
        "QUERY_STRING": query,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": request.version,
        "REMOTE_ADDR": remote_addr,
    }
    joined: dict[str, list[str]] = {}
    for name, value in request.fields:
        # Profile 3.2: fields whose names hold "_" MAY be dropped (they would be confused with
        # the "-" of another field once both become "_").
        if "_" in name:
            continue
        joined.setdefault(name.lower(), []).append(value)
    for lower, values in joined.items():
        # Profile 3.2: "A field sent more than once MUST appear once, its values joined in
        # order with "," or ", "" (RFC 9110 §5.3).
        value = ", ".join(values)
        if lower == "content-type":
            environ["CONTENT_TYPE"] = value
        elif lower == "content-length":
            environ["CONTENT_LENGTH"] = "" if chunked else value
        else:
            environ[_cgi_name(lower)] = value
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
    return environ


class ChunkedDecoder:
    """Decodes a chunked body fed in pieces (RFC 9112 §7.1); trailers are discarded."""

    def __init__(self) -> None:
        self._buffer = b""
        self._remaining = 0  # data octets left in the current chunk
        self._state = "size"  # size, data, data-crlf, trailer, done
        self.unused = b""  # octets after the end of the body (the next request)

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> bytes:
        """Decoded body octets from `data`; raises HttpError(400) on malformed framing."""
        self._buffer += data
        out = bytearray()
        while not self.done:
            if self._state == "data":
                if not self._buffer:
                    break
                piece = self._buffer[: self._remaining]
                out += piece
                self._buffer = self._buffer[len(piece) :]
                self._remaining -= len(piece)
                if self._remaining == 0:
                    self._state = "data-crlf"
                continue
            end = self._buffer.find(CRLF)
            if end < 0:
                if len(self._buffer) > MAX_CHUNK_LINE:
                    raise HttpError(BAD_REQUEST)
                break
            line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            if self._state == "data-crlf":
                if line:
                    raise HttpError(BAD_REQUEST)
                self._state = "size"
            elif self._state == "size":
                size = line.split(b";", 1)[0].strip(b" \t")
                if not HEX.fullmatch(size):
                    raise HttpError(BAD_REQUEST)
                self._remaining = int(size, 16)
                self._state = "data" if self._remaining else "trailer"
            elif not line:  # the blank line after the trailer fields
                self._state = "done"
                self.unused, self._buffer = self._buffer, b""
        return bytes(out)


def check_start_response(status: str, headers: list[tuple[str, str]]) -> None:
    """PEP 3333: the status is "a string of the form '999 Message here'", headers "a list of
    (header_name, header_value) tuples", all native strings; hop-by-hop fields are the server's."""
    if not isinstance(status, str) or not STATUS.fullmatch(status):
        raise ValueError(f"bad status {status!r}")
    for name, value in headers:
        if not isinstance(name, str) or not TOKEN.fullmatch(name):
            raise ValueError(f"bad header name {name!r}")
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise ValueError(f"bad header value {value!r}")
        if name.lower() in ("connection", "transfer-encoding", "keep-alive"):
            raise ValueError(f"hop-by-hop header {name!r}")


def response_head(
    status: str, headers: list[tuple[str, str]], chunked: bool, close: bool, now: float
) -> bytes:
    """The status line and fields of a response, with Date and the server's framing fields."""
    lines = [f"{HTTP_11} {status}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if not any(name.lower() == "date" for name, _ in headers):
        lines.append("Date: " + email.utils.formatdate(now, usegmt=True))
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked response body (never empty: that would end the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


LAST_CHUNK: Final = b"0\r\n\r\n"


def error_response(status: str, now: float) -> bytes:
    """A complete short plain-text response that closes the connection."""
    body = (status + "\n").encode("ascii")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    return response_head(status, headers, chunked=False, close=True, now=now) + body


def wants_close(request: RequestHead) -> bool:
    """RFC 9112 §9.3: HTTP/1.1 persists unless "close" is sent; HTTP/1.0 closes unless
    "keep-alive" is (this server does not keep 1.0 connections open at all)."""
    options = {o.strip().lower() for o in ",".join(request.get_all("Connection")).split(",")}
    return request.version != HTTP_11 or "close" in options
