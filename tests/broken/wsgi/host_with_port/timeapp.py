"""The time application: GET / on host 127.0.0.1 answers with the current time."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "GET":
        start_response("501 Not Implemented", TEXT)
        return [b"Only GET is implemented.\n"]
    host = environ.get("HTTP_HOST", "")
    if host != "127.0.0.1" or environ.get("PATH_INFO") != "/":
        start_response("404 Not Found", TEXT)
        return [b"Not found.\n"]
    start_response("200 OK", TEXT)
    return [time.strftime("It is %H:%M:%S on %d %B %Y.\n").encode("utf-8")]
