"""A small threaded WSGI server: python3 server.py HOST PORT module:callable"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import importlib
import os
import signal
import socket
import socketserver
import sys
import traceback
from typing import Any
from urllib.parse import unquote_to_bytes


class Input:
    """wsgi.input: at most `length` octets of the request body."""

    def __init__(self, rfile: Any, length: int) -> None:
        self.rfile = rfile
        self.left = length

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.rfile.read(size)
        self.left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.rfile.readline(size)
        self.left -= len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def send_simple(self, status: str) -> None:
        body = status.encode() + b"\n"
        self.wfile.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )

    def handle(self) -> None:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        line = self.rfile.readline(65537).decode("latin-1").rstrip("\r\n")
        parts = line.split(" ")
        if len(parts) != 3:
            self.send_simple("400 Bad Request")
            return
        method, target, version = parts
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": socket.gethostname() or "localhost",
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        chunked = False
        while True:
            field = self.rfile.readline(65537).decode("latin-1").rstrip("\r\n")
            if not field:
                break
            name, _, value = field.partition(":")
            name, value = name.strip().upper().replace("-", "_"), value.strip()
            if name == "TRANSFER_ENCODING":
                chunked = True
            if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                name = "HTTP_" + name
            environ[name] = value
        if chunked:
            self.send_simple("411 Length Required")
            return
        environ["wsgi.input"] = Input(self.rfile, int(environ.get("CONTENT_LENGTH") or 0))
        self.run(environ)

    def run(self, environ: dict[str, Any]) -> None:
        state: dict[str, Any] = {"status": None, "headers": None, "sent": False}

        def write(data: bytes) -> None:
            if not state["sent"]:
                head = [f"HTTP/1.1 {state['status']}"]
                head += [f"{k}: {v}" for k, v in state["headers"]]
                head += ["Date: " + email.utils.formatdate(usegmt=True), "Connection: close"]
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
                state["sent"] = True
            if environ["REQUEST_METHOD"] != "HEAD":
                self.wfile.write(data)

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info and state["sent"]:
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return write

        try:
            result = self.server.app(environ, start_response)  # type: ignore[attr-defined]
        except Exception:
            traceback.print_exc()
            self.send_simple("500 Internal Server Error")
            return
        try:
            for data in result:
                if data:
                    write(data)
            if not state["sent"]:
                write(b"")
        except OSError:
            pass  # the client went away
        finally:
            if hasattr(result, "close"):
                result.close()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser(description="A small threaded WSGI server.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("app", help="module:callable")
    args = parser.parse_args()
    sys.path.insert(0, os.getcwd())
    module, _, name = args.app.partition(":")
    app = getattr(importlib.import_module(module), name or "application")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    if ":" in args.host:
        Server.address_family = socket.AF_INET6
    with Server((args.host, args.port), Handler) as server:
        server.app = app  # type: ignore[attr-defined]
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


if __name__ == "__main__":
    main()
