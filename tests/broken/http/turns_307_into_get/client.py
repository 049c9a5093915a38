"""HTTP client: fetch each URL in order, follow redirects, print each final body."""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import ssl
import sys
import zlib
from urllib.parse import unquote, urljoin, urlsplit

MAX_REDIRECTS = 20
REDIRECTS = (301, 302, 303, 307, 308)


class ClientError(Exception):
    pass


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return (parts.scheme, parts.hostname or "", parts.port or default)


def path_matches(path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4: the request path path-matches the cookie path."""
    if path == cookie_path:
        return True
    return path.startswith(cookie_path) and (
        cookie_path.endswith("/") or path[len(cookie_path)] == "/"
    )


def default_path(url: str) -> str:
    """RFC 6265 §5.1.4: the directory of the request path."""
    path = urlsplit(url).path
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


class Client:
    def __init__(self, cafile: str) -> None:
        self.context = ssl.create_default_context(cafile=cafile or None)
        self.connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self.cookies: dict[str, dict[str, tuple[str, str]]] = {}
        self.cache: dict[str, tuple[str | None, str | None, bytes]] = {}

    def connection(self, origin: tuple[str, str, int]) -> http.client.HTTPConnection:
        if origin not in self.connections:
            scheme, host, port = origin
            if scheme == "https":
                self.connections[origin] = http.client.HTTPSConnection(
                    host, port, timeout=10, context=self.context
                )
            else:
                self.connections[origin] = http.client.HTTPConnection(host, port, timeout=10)
        return self.connections[origin]

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        parts = urlsplit(url)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        for attempt in range(2):
            conn = self.connection(origin_of(url))
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # the server closed a kept-alive connection: try once more on a new one
                conn.close()
                if attempt:
                    raise
                continue
            data = response.read()
            return response, data
        raise ClientError("unreachable")

    def fetch(self, url: str, data: bytes | None) -> bytes:
        parts = urlsplit(url)
        start = origin_of(url)
        auth = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(pair.encode()).decode()
        method = "POST" if data else "GET"
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(url).hostname or ""
            headers = {"Accept-Encoding": "gzip", "User-Agent": "homework-client"}
            if auth and origin_of(url) == start:
                headers["Authorization"] = auth
            path = urlsplit(url).path or "/"
            jar = self.cookies.get(host, {})
            sent = [f"{k}={v}" for k, (v, p) in jar.items() if path_matches(path, p)]
            if sent:
                headers["Cookie"] = "; ".join(sent)
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            cached = self.cache.get(url) if method == "GET" else None
            if cached and cached[0]:
                headers["If-None-Match"] = cached[0]
            if cached and cached[1]:
                headers["If-Modified-Since"] = cached[1]
            response, body = self.send(method, url, headers, data if method == "POST" else None)
            for cookie in response.headers.get_all("Set-Cookie") or []:
                pair, *attributes = cookie.split(";")
                name, _, value = pair.partition("=")
                cookie_path = default_path(url)
                for attribute in attributes:
                    key, _, given = attribute.strip().partition("=")
                    if key.lower() == "path" and given.startswith("/"):
                        cookie_path = given
                self.cookies.setdefault(host, {})[name.strip()] = (value.strip(), cookie_path)
            location = response.getheader("Location")
            if response.status in REDIRECTS and location:
                # a redirect is always fetched with GET
                method, data = "GET", None
                url = urljoin(url, location)
                continue
            if response.status == 304 and cached:
                return cached[2]
            if response.status >= 400:
                raise ClientError(f"{url}: {response.status} {response.reason}")
            if response.getheader("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            etag, modified = response.getheader("ETag"), response.getheader("Last-Modified")
            no_store = "no-store" in response.getheader("Cache-Control", "").lower()
            if method == "GET" and response.status == 200 and (etag or modified) and not no_store:
                self.cache[url] = (etag, modified, body)
            return body
        raise ClientError(f"{url}: too many redirects")


def main() -> None:
    parser = argparse.ArgumentParser(description="Fetch URLs over HTTP/1.1.")
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--data", default="")
    parser.add_argument("--cafile", default="")
    args = parser.parse_args()
    client = Client(args.cafile)
    try:
        for index, url in enumerate(args.urls):
            data = args.data.encode() if args.data and index == 0 else None
            sys.stdout.buffer.write(client.fetch(url, data))
            sys.stdout.buffer.flush()
    except (OSError, http.client.HTTPException, zlib.error, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
