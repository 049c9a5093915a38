"""The time application: GET / on host 127.0.0.1 answers with the current time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def app(environ: dict[str, Any], start_response: Any) -> Iterator[str]:
    if environ["REQUEST_METHOD"] != "GET":
        start_response("501 Not Implemented", TEXT)
        yield "Only GET is implemented.\n"
        return
    host = environ.get("HTTP_HOST", "").split(":")[0]
    if host != "127.0.0.1" or environ.get("PATH_INFO") != "/":
        start_response("404 Not Found", TEXT)
        yield "Not found.\n"
        return
    start_response("200 OK", TEXT)
    yield time.strftime("It is %H:%M:%S on %d %B %Y.\n")
