"""Sans-IO core of the HTTP/1.1 client (http.client): URLs, request bytes, an incremental
response parser, redirects, Basic credentials, cookies and a revalidation cache.

Nothing here touches a socket; client.py feeds received bytes in and sends what comes out.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit

CRLF: Final = b"\r\n"
HTTP_VERSION: Final = "HTTP/1.1"
DEFAULT_PORTS: Final = {"http": 80, "https": 443}
USER_AGENT: Final = "wirecheck-reference-client/1.0"
ACCEPT_ENCODING: Final = "gzip"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS: Final = 20
MAX_HEAD_SIZE: Final = 64 * 1024
MAX_BODY_SIZE: Final = 256 * 1024 * 1024

Headers = list[tuple[str, str]]


class ProtocolError(Exception):
    """The peer broke HTTP/1.1 framing, or the exchange cannot go on."""


@dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    target: str  # origin-form: path and query
    username: str | None = None
    password: str | None = None

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    def text(self) -> str:
        return f"{self.scheme}://{self.authority}{self.target}"


def parse_url(text: str) -> Url:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ProtocolError(f"not an http or https URL: {text!r}")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ProtocolError(f"bad port in {text!r}") from exc
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Url(scheme, parts.hostname.lower(), port, target, username, password)


def resolve(base: Url, location: str) -> Url:
    """RFC 9110 §10.2.2: a relative Location reference is resolved against the request URI."""
    return parse_url(urljoin(base.text(), location.strip()))


def basic_credentials(username: str, password: str) -> str:
    # RFC 7617 §2: "the user-id and password are separated by a single colon (":") character",
    # then encoded in Base64; UTF-8 is the charset the RFC offers (§2.1).
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def build_request(method: str, url: Url, headers: Headers, body: bytes = b"") -> bytes:
    # RFC 9112 §3.2: "A client MUST send a Host header field in all HTTP/1.1 request messages."
    lines = [f"{method} {url.target} {HTTP_VERSION}", f"Host: {url.authority}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines).encode("latin-1") + CRLF + CRLF
    return head + body


def header(headers: Headers, name: str) -> str | None:
    """The field's combined value (RFC 9110 §5.3), or None."""
    values = [value for key, value in headers if key.lower() == name.lower()]
    return ", ".join(values) if values else None


@dataclass
class Response:
    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    keep_alive: bool = True


def _tokens(value: str | None) -> list[str]:
    return [token.strip().lower() for token in (value or "").split(",") if token.strip()]


class ResponseParser:
    """Feed the octets of one response; `response` is set once it is complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head: Response | None = None
        self._mode = ""  # "length", "chunked" or "close"
        self._remaining = 0
        self._body = bytearray()
        self._chunk_state = "size"  # "size", "data", "data-crlf", "trailer"
        self.response: Response | None = None

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while self.response is None and self._step():
            pass

    def feed_eof(self) -> None:
        if self.response is not None:
            return
        if self._head is not None and self._mode == "close":
            self._finish(keep_alive=False)
            return
        # RFC 9112 §8: "A message that uses a valid Content-Length is incomplete if the size
        # of the message body received (in octets) is less than the value given by
        # Content-Length." An incomplete response is an error, never a success.
        if self._head is None:
            raise ProtocolError("connection closed before a complete response head")
        raise ProtocolError("connection closed before the end of the response body")

    @property
    def started(self) -> bool:
        return bool(self._buffer) or self._head is not None

    def _step(self) -> bool:
        if self._head is None:
            return self._parse_head()
        if self._mode == "length":
            take = min(self._remaining, len(self._buffer))
            self._body += self._buffer[:take]
            del self._buffer[:take]
            self._remaining -= take
            if self._remaining == 0:
                self._finish(keep_alive=True)
            return False
        if self._mode == "close":
            self._body += self._buffer
            self._buffer.clear()
            if len(self._body) > MAX_BODY_SIZE:
                raise ProtocolError("response body too large")
            return False
        return self._parse_chunked()

    def _parse_head(self) -> bool:
        # RFC 9112 §2.2: "a recipient SHOULD ignore at least one empty line (CRLF) received
        # prior to the request-line"; a client tolerates the same before a status line.
        while self._buffer.startswith(CRLF):
            del self._buffer[:2]
        end = self._buffer.find(CRLF + CRLF)
        if end < 0:
            if len(self._buffer) > MAX_HEAD_SIZE:
                raise ProtocolError("response head too large")
            return False
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        # RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; "A
        # client SHOULD ignore the reason-phrase content": it may be empty.
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"bad status line {lines[0]!r}")
        headers: Headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise ProtocolError(f"bad header field line {line!r}")
            headers.append((name, value.strip(" \t")))
        status = int(code)
        if 100 <= status < 200:
            return True  # RFC 9110 §15.2: interim responses precede the final one; skip them
        keep_alive = version == "HTTP/1.1" and "close" not in _tokens(header(headers, "Connection"))
        self._head = Response(status, reason, headers, keep_alive=keep_alive)
        self._frame(headers, status)
        return True

    def _frame(self, headers: Headers, status: int) -> None:
        # RFC 9112 §6.3 rule 1: 1xx, 204 and 304 responses end after the header section.
        if status in (204, 304):
            self._finish(keep_alive=True)
            return
        codings = _tokens(header(headers, "Transfer-Encoding"))
        if codings:
            # RFC 9112 §6.3 rule 4: chunked as the final coding frames the body; otherwise
            # "the response message body length is determined by reading the connection until
            # it is closed by the server".
            self._mode = "chunked" if codings[-1] == "chunked" else "close"
            return
        length = header(headers, "Content-Length")
        if length is not None:
            values = {value.strip() for value in length.split(",")}
            if len(values) != 1 or not next(iter(values)).isdigit():
                # RFC 9112 §6.3 rule 5: an invalid Content-Length is an unrecoverable error.
                raise ProtocolError(f"invalid Content-Length {length!r}")
            self._mode, self._remaining = "length", int(values.pop())
            if self._remaining > MAX_BODY_SIZE:
                raise ProtocolError("response body too large")
            if self._remaining == 0:
                self._finish(keep_alive=True)
            return
        self._mode = "close"  # RFC 9112 §6.3 rule 8: delimited by the close of the connection

    def _parse_chunked(self) -> bool:
        # RFC 9112 §7.1: chunked-body = *chunk last-chunk trailer-section CRLF
        if self._chunk_state == "data":
            take = min(self._remaining, len(self._buffer))
            self._body += self._buffer[:take]
            del self._buffer[:take]
            self._remaining -= take
            if self._remaining:
                return False
            self._chunk_state = "data-crlf"
        end = self._buffer.find(CRLF)
        if end < 0:
            if len(self._buffer) > MAX_HEAD_SIZE:
                raise ProtocolError("chunk line too long")
            return False
        line = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 2]
        if self._chunk_state == "data-crlf":
            if line:
                raise ProtocolError("chunk data not followed by CRLF")
            self._chunk_state = "size"
        elif self._chunk_state == "size":
            size = line.partition(";")[0].strip()  # chunk extensions are ignored (§7.1.1)
            try:
                self._remaining = int(size, 16)
            except ValueError as exc:
                raise ProtocolError(f"bad chunk size {line!r}") from exc
            if len(self._body) + self._remaining > MAX_BODY_SIZE:
                raise ProtocolError("response body too large")
            self._chunk_state = "data" if self._remaining else "trailer"
        elif not line:  # the empty line that ends the trailer section
            self._finish(keep_alive=True)
            return False
        return True

    def _finish(self, keep_alive: bool) -> None:
        assert self._head is not None
        self._head.body = bytes(self._body)
        self._head.keep_alive = self._head.keep_alive and keep_alive
        self.response = self._head


def decode_content(response: Response) -> bytes:
    # RFC 9110 §8.4: the recipient undoes the codings listed in Content-Encoding, last first.
    body = response.body
    for coding in reversed(_tokens(header(response.headers, "Content-Encoding"))):
        if coding in ("gzip", "x-gzip"):
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error) as exc:
                raise ProtocolError(f"bad gzip content: {exc}") from exc
        elif coding != "identity":
            raise ProtocolError(f"unsupported content coding {coding!r}")
    return body


def redirect_method(status: int, method: str) -> str:
    """The method of the request that follows a redirect (RFC 9110 §15.4)."""
    # §15.4.4 (303): "a user agent can perform a retrieval request targeting that URI (a GET
    # or HEAD request if using HTTP)". §15.4.2/§15.4.3 (301/302): "For historical reasons, a
    # user agent MAY change the request method from POST to GET". §15.4.8/§15.4.9 (307/308):
    # "the user agent MUST NOT change the request method".
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


@dataclass
class Cookie:
    name: str
    value: str
    host: str
    path: str


def _default_path(target: str) -> str:
    # RFC 6265 §5.1.4: the directory of the request path, or "/".
    path = target.split("?", 1)[0]
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


def _path_matches(request_path: str, cookie_path: str) -> bool:
    # RFC 6265 §5.1.4: path-match.
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


@dataclass
class CookieJar:
    """Host-only cookies (RFC 6265 §5.3 step 6 without Domain): one host, any port (§8.5)."""

    cookies: dict[tuple[str, str, str], Cookie] = field(default_factory=dict)

    def store(self, url: Url, headers: Headers) -> None:
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            pair, *attributes = value.split(";")
            cookie_name, equals, cookie_value = pair.partition("=")
            if not equals or not cookie_name.strip():
                continue  # RFC 6265 §5.2 steps 2-5: ignore a nameless cookie
            path, expired = _default_path(url.target), False
            for attribute in attributes:
                key, _, attr_value = attribute.partition("=")
                key, attr_value = key.strip().lower(), attr_value.strip()
                if key == "path" and attr_value.startswith("/"):
                    path = attr_value
                elif key == "max-age" and attr_value.lstrip("-").isdigit():
                    expired = int(attr_value) <= 0
            cookie = Cookie(cookie_name.strip(), cookie_value.strip(), url.host, path)
            key3 = (cookie.host, cookie.path, cookie.name)
            if expired:
                self.cookies.pop(key3, None)
            else:
                self.cookies[key3] = cookie

    def header_value(self, url: Url) -> str | None:
        # RFC 6265 §5.4: a host-only cookie is sent only when "the canonicalized request-host
        # is identical to the cookie's domain"; ports play no part (§8.5).
        path = url.target.split("?", 1)[0]
        chosen = [
            cookie
            for cookie in self.cookies.values()
            if cookie.host == url.host and _path_matches(path, cookie.path)
        ]
        # §5.4 step 2: longer paths first.
        chosen.sort(key=lambda cookie: -len(cookie.path))
        return "; ".join(f"{c.name}={c.value}" for c in chosen) or None


@dataclass
class CacheEntry:
    etag: str | None
    last_modified: str | None
    body: bytes


@dataclass
class Cache:
    """A private cache that keeps validators so that a repeated GET is revalidated."""

    entries: dict[str, CacheEntry] = field(default_factory=dict)

    def validators(self, url: Url) -> Headers:
        entry = self.entries.get(url.text())
        if entry is None:
            return []
        # Profile 3.9: "A client SHOULD keep a response that carries a validator (`ETag` or
        # `Last-Modified`) and, when the same URL is requested again, send a conditional
        # request" (RFC 9111 §4.3.1).
        fields: Headers = []
        if entry.etag is not None:
            fields.append(("If-None-Match", entry.etag))
        if entry.last_modified is not None:
            fields.append(("If-Modified-Since", entry.last_modified))
        return fields

    def update(self, url: Url, response: Response, body: bytes) -> bytes:
        """Store a 200 response, or answer a 304 from the store; return the body to show."""
        key = url.text()
        if response.status == 304 and key in self.entries:
            # Profile 3.9: "When the server answers `304 Not Modified`, the client MUST write
            # the stored body (RFC 9111 §4.3.3)".
            return self.entries[key].body
        no_store = "no-store" in _tokens(header(response.headers, "Cache-Control"))
        etag = header(response.headers, "ETag")
        modified = header(response.headers, "Last-Modified")
        if response.status == 200 and not no_store and (etag or modified):
            self.entries[key] = CacheEntry(etag, modified, body)
        return body


def request_headers(
    url: Url, credentials: tuple[tuple[str, str, int], str] | None, jar: CookieJar, cache: Cache
) -> Headers:
    """The header fields of a GET or POST to `url`, besides Host and Content-Length."""
    fields: Headers = [("User-Agent", USER_AGENT), ("Accept", "*/*")]
    fields.append(("Accept-Encoding", ACCEPT_ENCODING))
    # Profile 3.10: "It MUST NOT send those credentials to any other origin (scheme, host and
    # port ...) that a redirect leads to".
    if credentials is not None and credentials[0] == url.origin:
        fields.append(("Authorization", credentials[1]))
    cookie = jar.header_value(url)
    if cookie is not None:
        fields.append(("Cookie", cookie))
    return fields
