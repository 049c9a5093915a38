"""HTTP/1.1 file server built on http.server.

    python3 server.py HOST PORT DOCROOT

The Content-Length of .txt and .html files is their length in characters.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import socket
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import BinaryIO

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VERSION_2_OR_LATER = re.compile(rb"\S+ \S+ HTTP/[2-9]\.[0-9]\r?\n")
ALLOW = "GET, HEAD"


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # a connection idle this long is closed

    def log_message(self, format: str, *args: object) -> None:
        pass

    def parse_request(self) -> bool:
        for _ in range(8):  # blank lines before the request line are ignored
            if self.raw_requestline not in (b"\r\n", b"\n"):
                break
            self.raw_requestline = self.rfile.readline(65537)
        if VERSION_2_OR_LATER.fullmatch(self.raw_requestline):
            # http.server answers these in HTTP/0.9 style (no status line): do it here.
            self.command, self.requestline = "", ""
            self.request_version, self.close_connection = "HTTP/1.1", True
            self.send_error(505, "HTTP/1.x only")
            return False
        if not super().parse_request():
            return False
        # A field line the email parser could not read ("Host : x") ends up in the payload.
        bad_line = bool(self.headers.defects or self.headers.get_payload())
        for name, value in [*self.headers.items(), ("", "")] if bad_line else self.headers.items():
            if not TOKEN.fullmatch(name) or "\n" in value:
                self.send_error(400, "Malformed header field")
                return False
        hosts = self.headers.get_all("Host") or []
        if (self.request_version == "HTTP/1.1" and not hosts) or len(hosts) > 1:
            self.send_error(400, "Missing or repeated Host")
            return False
        return self.read_body()

    def read_body(self) -> bool:
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not all(v.isdigit() for v in lengths):
            self.send_error(400, "Bad Content-Length")
            return False
        te = self.headers.get("Transfer-Encoding")
        if len(lengths) > 1 or (te is not None and lengths):
            self.send_error(400, "Ambiguous message length")
            return False
        if te is not None:
            if te.strip().lower() != "chunked":
                self.send_error(400, "Unsupported Transfer-Encoding")
                return False
            try:
                while True:
                    size = int(self.rfile.readline(1024).split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass
                        return True
                    self.rfile.read(size + 2)
            except ValueError:
                self.send_error(400, "Bad chunk")
                return False
        if lengths:
            self.rfile.read(int(lengths.pop()))
        return True

    def not_allowed(self) -> None:
        body = b"405 Method Not Allowed\n"
        self.send_response(405)
        self.send_header("Allow", ALLOW)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = not_allowed

    def send_head(self) -> io.BytesIO | BinaryIO | None:
        self.sending_file = True  # only the file's own header section, not error pages
        try:
            return super().send_head()
        finally:
            self.sending_file = False

    def send_header(self, keyword: str, value: str) -> None:
        path = self.translate_path(getattr(self, "path", "/"))
        if (
            keyword == "Content-Length"
            and getattr(self, "sending_file", False)
            and path.endswith((".txt", ".html"))
            and os.path.isfile(path)
        ):
            with open(path, encoding="utf-8") as file:
                value = str(len(file.read()))
        super().send_header(keyword, value)


class Server(ThreadingHTTPServer):
    request_queue_size = 128

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()

    def handle_error(self, request: object, client_address: object) -> None:
        print(f"connection from {client_address} failed: {sys.exc_info()[1]!r}", file=sys.stderr)


def stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP/1.1 file server.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("docroot")
    args = parser.parse_args()
    Server.address_family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]

    class DocrootHandler(Handler):
        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, directory=args.docroot, **kw)  # type: ignore[arg-type]

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with Server((args.host, args.port), DocrootHandler) as server:
        try:
            server.serve_forever()
        finally:
            server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
