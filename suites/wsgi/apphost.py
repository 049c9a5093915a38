"""Hosts one WSGI application for one case of the wsgi suite (profile 1.4), and reports.

    python3 apphost.py MODULE:CALLABLE REQUEST_B64

Run in the implementation's folder. REQUEST_B64 is base64 of a JSON object: ``environ`` (the CGI
variables, all strings) and ``body_b64`` (the request body). The program imports the callable
with the working directory first on ``sys.path``, builds the environ, calls the application once
under ``wsgiref.validate`` and a recording ``start_response``, iterates the result, closes it,
and prints one line ``RESULT_PREFIX`` + JSON to its standard output. It observes, never judges:
whatever the application does (raise, print, exit) is reported, not fatal. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import io
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.validate import validator

RESULT_PREFIX = "WIRECHECK-APPHOST "
MAX_ITEMS = 10_000  # body items read before giving up on an endless body
MAX_OCTETS = 4 * 1024 * 1024
# The result line must stay well inside the 64 KiB tail the harness keeps of standard output.
KEEP_OCTETS = 16 * 1024  # body octets reported (base64), the rest only counted
KEEP_ITEMS = 100  # body items described one by one; the first item that is not bytes always
VALIDATE_FILE = os.path.normcase(os.path.abspath(sys.modules[validator.__module__].__file__ or ""))


def value(v: object) -> object:
    """A JSON-able view of what the application passed: strings as they are, the rest as repr."""
    return v if isinstance(v, str) else repr(v)


def failure(exc: BaseException) -> dict[str, object]:
    """Type, message, traceback tail, and whether wsgiref.validate raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    inner = os.path.normcase(os.path.abspath(frames[-1].filename)) if frames else ""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "by_validate": isinstance(exc, AssertionError) and inner == VALIDATE_FILE,
        "traceback": "".join(lines)[-3000:],
    }


class Observation:
    """What one call of the application did, as seen between validate and the application."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []
        self.items: list[dict[str, object]] = []
        self.count = 0
        self.not_bytes: dict[str, object] | None = None  # the first item that is not bytes
        self.octets = 0
        self.kept = bytearray()
        self.app_close = "absent"  # "absent" (no close method), "not called", "called"
        self.truncated = False

    def item(self, source: str, data: object) -> None:
        entry: dict[str, object] = {"source": source, "type": type(data).__name__}
        if isinstance(data, bytes):
            entry["length"] = len(data)
            self.octets += len(data)
            room = KEEP_OCTETS - len(self.kept)
            if room > 0:
                self.kept += data[:room]
        else:
            entry["repr"] = repr(data)[:300]
            if self.not_bytes is None:
                self.not_bytes = entry
        self.count += 1
        if len(self.items) < KEEP_ITEMS:
            self.items.append(entry)

    def start_response(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        status = args[0] if args else kwargs.get("status")
        headers = (
            args[1] if len(args) > 1 else kwargs.get("headers", kwargs.get("response_headers"))
        )
        exc_info = args[2] if len(args) > 2 else kwargs.get("exc_info")
        if isinstance(headers, list | tuple):
            shown: object = [
                [value(h[0]), value(h[1])] if isinstance(h, tuple) and len(h) == 2 else value(h)
                for h in headers
            ]
        else:
            shown = value(headers)
        self.calls.append(
            {
                "status": value(status),
                "status_type": type(status).__name__,
                "headers": shown,
                "exc_info": exc_info is not None,
                "items_before": self.count,
            }
        )


class ObservedIterable:
    """The application's iterable, passed on unchanged, each item recorded on its way."""

    def __init__(self, inner: Any, seen: Observation) -> None:
        self.inner, self.seen = inner, seen
        seen.app_close = "not called" if hasattr(inner, "close") else "absent"

    def __iter__(self) -> Iterator[Any]:
        for data in self.inner:
            self.seen.item("iterable", data)
            yield data

    def close(self) -> None:
        if hasattr(self.inner, "close"):
            self.seen.app_close = "called"
            self.inner.close()


def observed(app: Callable[..., Any], seen: Observation) -> Callable[..., Any]:
    """The application as validate sees it: its start_response calls and items are recorded."""

    def wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def recording_start_response(*args: Any, **kwargs: Any) -> Any:
            seen.start_response(args, kwargs)
            write = start_response(*args, **kwargs)

            def recording_write(data: Any) -> Any:
                seen.item("write", data)
                return write(data)

            return recording_write

        result = app(environ, recording_start_response)
        if result is None or isinstance(result, str | bytes | bytearray) or result is False:
            return result  # validate judges these as they are
        return ObservedIterable(result, seen)

    return wrapper


def suite_start_response(*args: Any, **kwargs: Any) -> Callable[[bytes], None]:
    """The server side of start_response: accepts every call (the calls are judged later)."""
    return lambda data: None


def load(spec: str) -> Callable[..., Any]:
    module_name, _, attribute = spec.partition(":")
    target: Any = importlib.import_module(module_name)
    for name in (attribute or "application").split("."):
        target = getattr(target, name)
    if not callable(target):
        raise TypeError(f"{spec} is a {type(target).__name__}, not a callable")
    return target  # type: ignore[no-any-return]


def run(app: Callable[..., Any], request: dict[str, Any]) -> dict[str, object]:
    """Call the application once for ``request`` and say what happened."""
    body = base64.b64decode(request.get("body_b64", ""))
    errors = io.StringIO()
    environ: dict[str, Any] = dict(request["environ"])
    environ.update(
        {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": errors,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
    )
    seen = Observation()
    outcome: dict[str, object] = {"exception": None, "closed": False}
    before = time.time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result: Any = None
        try:
            result = validator(observed(app, seen))(environ, suite_start_response)
            for data in result:
                if seen.octets > MAX_OCTETS or seen.count >= MAX_ITEMS:
                    seen.truncated = True
                    break
                del data  # recorded on its way through
        except BaseException as exc:  # the application's fault, reported; never ours to raise
            outcome["exception"] = failure(exc)
        finally:
            if hasattr(result, "close"):
                try:
                    result.close()
                    outcome["closed"] = True
                except BaseException as exc:
                    outcome["close_exception"] = failure(exc)
            elif hasattr(result, "closed"):  # validate's wrapper must not complain at exit
                result.closed = True
    after = time.time()
    return {
        **outcome,
        "calls": seen.calls,
        "items": seen.items,
        "item_count": seen.count,
        "not_bytes": seen.not_bytes,
        "body_b64": base64.b64encode(bytes(seen.kept)).decode("ascii"),
        "body_octets": seen.octets,
        "truncated": seen.truncated,
        "app_close": seen.app_close,
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught][:20],
        "errors_text": errors.getvalue()[:2000],
        "time_before": before,
        "time_after": after,
        "utc_offset": time.localtime(before).tm_gmtoff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Host a WSGI application for one wsgi case.")
    parser.add_argument("module", help="the application, as module:callable")
    parser.add_argument("request", help="base64 of the JSON request description")
    args = parser.parse_args()
    request = json.loads(base64.b64decode(args.request))
    nonce = str(request.pop("nonce", ""))
    del sys.argv[1:]  # the application sees neither the request nor the result's nonce
    # What the application prints, through sys.stdout or straight to descriptor 1, goes to
    # standard error: the result goes out on a descriptor of its own, after the nonce the suite
    # chose, so that nothing the application writes is taken for it.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path[0] = os.getcwd()  # the implementation's folder, not this script's
    report: dict[str, object] = {"module": args.module}
    try:
        app = load(args.module)
    except BaseException as exc:
        report["import_error"] = failure(exc)
    else:
        report["result"] = run(app, request)
    out.write(f"{RESULT_PREFIX}{nonce} {json.dumps(report)}\n")
    out.flush()


if __name__ == "__main__":
    main()
