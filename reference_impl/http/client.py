"""HTTP/1.1 client (http.client): fetch each URL in order and print each final body.

The protocol logic is in client_core.py; this program owns the sockets: one connection per
origin, kept open between requests while the server allows it.
"""

from __future__ import annotations

import argparse
import socket
import ssl
import sys
from typing import Final

from client_core import (
    FORM_TYPE,
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    Cache,
    CookieJar,
    ProtocolError,
    Response,
    ResponseParser,
    Url,
    basic_credentials,
    build_request,
    decode_content,
    header,
    parse_url,
    redirect_method,
    request_headers,
    resolve,
)

RECV_SIZE: Final = 65536
TIMEOUT: Final = 10.0  # seconds to wait for a connection or for the next octets

Origin = tuple[str, str, int]


class Fetcher:
    """The connections of one run, one per origin (profile 3.8)."""

    def __init__(self, cafile: str) -> None:
        # Profile 3.7: "the client MUST verify the server's certificate against the authority
        # in `{cafile}` and the URL's host": this context trusts that file only, checks names.
        self.context = ssl.create_default_context(cafile=cafile or None)
        self.pool: dict[Origin, socket.socket] = {}

    def _connect(self, url: Url) -> socket.socket:
        sock = socket.create_connection((url.host, url.port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if url.scheme == "https":
            return self.context.wrap_socket(sock, server_hostname=url.host)
        return sock

    def exchange(self, url: Url, request: bytes) -> Response:
        sock = self.pool.pop(url.origin, None)
        if sock is not None:
            try:
                return self._exchange_on(sock, url, request)
            except _StaleConnection:
                pass  # RFC 9112 §9.3.1: retry once on a fresh connection; nothing was received
        return self._exchange_on(self._connect(url), url, request, retry=False)

    def _exchange_on(
        self, sock: socket.socket, url: Url, request: bytes, retry: bool = True
    ) -> Response:
        parser = ResponseParser()
        try:
            sock.sendall(request)
            while parser.response is None:
                data = sock.recv(RECV_SIZE)
                if data:
                    parser.feed(data)
                else:
                    parser.feed_eof()
        except (OSError, ProtocolError) as exc:
            sock.close()
            if retry and not parser.started and not isinstance(exc, TimeoutError):
                raise _StaleConnection from exc
            raise
        response = parser.response
        # RFC 9112 §9.6: "A client that receives a "close" connection option MUST cease
        # sending requests on that connection and close it after reading the response".
        if response.keep_alive:
            self.pool[url.origin] = sock
        else:
            sock.close()
        return response

    def close(self) -> None:
        for sock in self.pool.values():
            sock.close()
        self.pool.clear()


class _StaleConnection(Exception):
    """A kept-alive connection that the server had closed before our request."""


def fetch(fetcher: Fetcher, jar: CookieJar, cache: Cache, text: str, data: bytes | None) -> bytes:
    """Follow one URL to its final response; return its body or raise ProtocolError."""
    url = parse_url(text)
    credentials = None
    if url.username is not None:
        # Profile 3.10: "When a URL carries userinfo ... the client MUST send its
        # percent-decoded user-id and password as Basic credentials".
        credentials = (url.origin, basic_credentials(url.username, url.password or ""))
    method, body = ("POST", data) if data is not None else ("GET", b"")
    # Profile 3.6: "A redirect that leads back to an earlier URL MUST be stopped after at most
    # 100 requests in all, with a non-zero exit status".
    for _ in range(MAX_REDIRECTS + 1):
        fields = request_headers(url, credentials, jar, cache)
        if method == "POST":
            fields.append(("Content-Type", FORM_TYPE))
        else:
            fields += cache.validators(url)
        response = fetcher.exchange(url, build_request(method, url, fields, body))
        jar.store(url, response.headers)
        location = header(response.headers, "Location")
        if response.status in REDIRECT_STATUSES and location:
            new_method = redirect_method(response.status, method)
            if new_method != method:
                body = b""  # the content belongs to the method that was dropped
            method, url = new_method, resolve(url, location)
            continue
        if response.status >= 400:
            raise ProtocolError(f"{url.text()}: {response.status} {response.reason}".rstrip())
        if method == "GET":
            if response.status == 304:
                return cache.update(url, response, b"")
            return cache.update(url, response, decode_content(response))
        return decode_content(response)
    raise ProtocolError(f"{text}: more than {MAX_REDIRECTS} redirects")


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP/1.1 client (http.client).")
    parser.add_argument("urls", nargs="+", metavar="url", help="http or https URL to fetch")
    parser.add_argument("--data", default="", help="body of a form POST for the first URL")
    parser.add_argument("--cafile", default="", help="PEM file of the authority to trust")
    args = parser.parse_args()
    fetcher, jar, cache = Fetcher(args.cafile), CookieJar(), Cache()
    try:
        for index, text in enumerate(args.urls):
            # Profile 3.1: "When `{data}` is non-empty, the first request MUST be a POST".
            data = args.data.encode() if args.data and index == 0 else None
            body = fetch(fetcher, jar, cache, text, data)
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
    except (OSError, ProtocolError) as exc:
        # Profile 3.1: "When a URL ends in a 4xx or 5xx final response or in a network or
        # protocol error, the client MUST exit with a non-zero status".
        print(f"http client: {exc}", file=sys.stderr)
        sys.exit(1)
    finally:
        fetcher.close()


if __name__ == "__main__":
    main()
