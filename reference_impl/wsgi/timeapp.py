"""The time application of chapter 10 (wsgi.app): GET / on host 127.0.0.1 tells the time.

python3 wsgi/timeapp.py HOST PORT    serves it with wsgiref, for trying it by hand
manifest: {module} = timeapp:app
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterable
from typing import Final
from wsgiref.simple_server import make_server
from wsgiref.types import StartResponse, WSGIEnvironment

HOST: Final = "127.0.0.1"
TEXT_PLAIN: Final = "text/plain; charset=utf-8"


def _respond(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    # Profile 2.1: the application "MUST return an iterable whose every item is a `bytes` object".
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", TEXT_PLAIN), ("Content-Length", str(len(body)))])
    return [body]


def host_name(environ: WSGIEnvironment) -> str:
    """The host of the request without its port (HTTP_HOST, else SERVER_NAME)."""
    host: str = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if host.startswith("["):  # an IPv6 literal: [::1]:8000
        return host[: host.find("]") + 1]
    # Profile 2.4: "The host is compared without its port: 127.0.0.1:8000 is 127.0.0.1."
    return host.rpartition(":")[0] if ":" in host else host


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    # Profile 2.3: "A request with any method other than GET MUST get 501."
    if environ["REQUEST_METHOD"] != "GET":
        return _respond(start_response, "501 Not Implemented", "Only GET is implemented.\n")
    # Profile 2.4: "A request for another host or path MUST get 404; the query string MUST NOT
    # change the answer." (PATH_INFO holds the path only; QUERY_STRING is never looked at.)
    if host_name(environ).lower() != HOST or environ.get("PATH_INFO") != "/":
        return _respond(start_response, "404 Not Found", "Not found.\n")
    now = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())
    return _respond(start_response, "200 OK", f"The time is {now}.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="The time application, served by wsgiref.")
    parser.add_argument("host", help="address to listen on")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    args = parser.parse_args()
    with make_server(args.host, args.port, app) as server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
