"""Readable views of a connection's traffic, shown in the transcript under the raw octets.

``HttpView`` follows each direction of an HTTP/1.x connection: when a message head is complete
it shows the head as text, one field line per line; bodies are summarised (how many octets, how
they were framed, a short preview of text) when they end, never printed whole. It frames bodies
the way RFC 9112 §6.3 says a recipient does, so a transcript of a misframed exchange reads as
what the other side would have understood. Attach one to a channel with
``conn.channel.viewer = HttpView()``, or name the view in the role marker
(``pytest.mark.role("http.server", view="http")``) and in ``FakeTcpServer(view=HttpView)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Callable

from wirecheck.transcript import Direction

HEAD_LIMIT = 64 * 1024  # a head longer than this is summarised, not shown
PREVIEW = 80
LINE_LIMIT = 400
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)")
_NO_BODY_STATUS = re.compile(r"^(1\d\d|204|304)$")


@dataclasses.dataclass
class _Side:
    """One direction's parse state."""

    state: str = "head"  # head, length, chunk-size, chunk-data, chunk-crlf, trailers, close
    head: bytearray = dataclasses.field(default_factory=bytearray)
    remaining: int = 0  # octets left in a Content-Length body or the current chunk
    body: int = 0  # octets of content so far
    framing: str = ""
    preview: bytearray = dataclasses.field(default_factory=bytearray)
    line: bytearray = dataclasses.field(default_factory=bytearray)
    content_type: str = ""
    gave_up: bool = False


class HttpView:
    """A per-connection HTTP/1.x message view; call it with each recorded chunk."""

    def __init__(self) -> None:
        self._sides: dict[Direction, _Side] = {}
        self._methods: deque[str] = deque(maxlen=64)  # request methods, to frame HEAD answers

    def __call__(self, direction: Direction, data: bytes) -> str:
        side = self._sides.setdefault(direction, _Side())
        if side.gave_up:
            return ""
        out: list[str] = []
        view = memoryview(data)
        steps = 0
        while view and steps < 10_000:
            steps += 1
            view = self._step(side, view, out)
        return "\n".join(out)

    def end(self, direction: Direction) -> str:
        """What the end of ``direction`` means for the message in progress: a body delimited by
        the close is complete; one framed otherwise is incomplete (RFC 9112 §8)."""
        side = self._sides.get(direction)
        if side is None or side.gave_up:
            return ""
        side.gave_up = True  # said once
        if side.state == "close":
            return self._finish(side)
        if side.state == "length":
            return (
                f"[incomplete body: {side.body} octets, {side.remaining} fewer than its "
                "Content-Length]"
            )
        if side.state.startswith("chunk") or side.state == "trailers":
            return f"[incomplete chunked body: {side.body} octets, the last chunk never came]"
        if side.head:
            return f"[incomplete head: {len(side.head)} octets without the empty line]"
        return ""

    # -- parsing ----------------------------------------------------------------------------
    def _step(self, side: _Side, view: memoryview, out: list[str]) -> memoryview:
        if side.state == "head":
            return self._head(side, view, out)
        if side.state in ("length", "chunk-data", "close"):
            take = len(view) if side.state == "close" else min(side.remaining, len(view))
            self._body(side, bytes(view[:take]))
            side.remaining -= take
            if side.state != "close" and side.remaining == 0:
                if side.state == "length":
                    out.append(self._finish(side))
                else:
                    side.state = "chunk-crlf"
            return view[take:]
        # Line-oriented states of the chunked coding.
        end = bytes(view).find(b"\n")
        if end < 0:
            side.line += view[: LINE_LIMIT - len(side.line)]
            return view[len(view) :]
        side.line += view[:end]
        line = bytes(side.line).rstrip(b"\r")
        side.line.clear()
        rest = view[end + 1 :]
        if side.state == "chunk-crlf":
            side.state = "chunk-size"
            if line:
                out.append(f"[chunk data not followed by CRLF: {line[:40]!r}]")
        elif side.state == "chunk-size":
            match = _CHUNK_SIZE.match(line)
            if not match:
                out.append(f"[not a chunk-size line: {line[:60]!r}; not followed further]")
                side.gave_up = True
                return rest[len(rest) :]
            side.remaining = int(match.group(1), 16)
            side.state = "chunk-data" if side.remaining else "trailers"
        elif side.state == "trailers" and not line:
            out.append(self._finish(side))
        return rest

    def _head(self, side: _Side, view: memoryview, out: list[str]) -> memoryview:
        if not side.head and bytes(view[:2]) in (b"\r\n", b"\n"):  # a blank line between messages
            return view[2 if bytes(view[:2]) == b"\r\n" else 1 :]
        before = len(side.head)
        side.head += view
        end = side.head.find(b"\r\n\r\n")
        size = 4
        if end < 0:
            end, size = side.head.find(b"\n\n"), 2
        if end < 0:
            if len(side.head) > HEAD_LIMIT:
                out.append(f"[a head of more than {HEAD_LIMIT} octets without an end; not shown]")
                side.gave_up = True
            return view[len(view) :]
        head = bytes(side.head[:end])
        used = end + size - before
        side.head.clear()
        out.append(self._show_head(side, head))
        return view[used:]

    def _show_head(self, side: _Side, head: bytes) -> str:
        lines = head.split(b"\n")
        text = [_printable(line.rstrip(b"\r")) for line in lines[:100]]
        if len(lines) > 100:
            text.append(f"… {len(lines) - 100} more field lines")
        first = lines[0].decode("latin-1").strip()
        fields: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                fields.setdefault(name.strip().lower(), []).append(value.strip())
        side.body, side.preview = 0, bytearray()
        side.content_type = (fields.get("content-type") or [""])[0]
        response = first.startswith("HTTP/")
        if not response:
            self._methods.append(first.split(" ", 1)[0])
        chunked = "chunked" in ",".join(fields.get("transfer-encoding", [])).lower()
        lengths = fields.get("content-length", [])
        no_body = ""
        if response:
            parts = first.split(" ", 2)
            status = parts[1] if len(parts) > 1 else ""
            if _NO_BODY_STATUS.match(status):
                no_body = f"[no body: status {status}]"
            if self._methods and not status.startswith("1") and self._methods.popleft() == "HEAD":
                no_body = "[no body: the answer to HEAD]"
        if no_body:
            side.state, side.framing = "head", ""
            text.append(no_body)
        elif chunked:
            side.state, side.framing = "chunk-size", "chunked"
        elif lengths and lengths[0].isdigit():
            side.remaining, side.framing = int(lengths[0]), "Content-Length"
            side.state = "length" if side.remaining else "head"
        elif response:
            side.state, side.framing = "close", "delimited by the close"
        else:
            side.state = "head"
        return "\n".join(text)

    def _body(self, side: _Side, data: bytes) -> None:
        side.body += len(data)
        if len(side.preview) < PREVIEW:
            side.preview += data[: PREVIEW - len(side.preview)]

    def _finish(self, side: _Side) -> str:
        kind = f", {side.content_type}" if side.content_type else ""
        preview = ""
        if side.preview:
            sample = bytes(side.preview)
            if _looks_like_text(sample):
                more = "…" if side.body > len(sample) else ""
                preview = f": {_printable(sample)}{more}"
        summary = f"[body: {side.body} octets ({side.framing}{kind}){preview}]"
        side.state, side.body, side.preview = "head", 0, bytearray()
        return summary


def _printable(line: bytes) -> str:
    text = line[:LINE_LIMIT].decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text + ("…" if len(line) > LINE_LIMIT else "")


def _looks_like_text(sample: bytes) -> bool:
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not just a character cut at the preview's end
            return False
        text = sample[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


Viewer = Callable[[Direction, bytes], str]
VIEWS: dict[str, Callable[[], Viewer]] = {"http": HttpView}
