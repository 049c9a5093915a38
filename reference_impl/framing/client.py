"""framing.client: send each message as a block, then the terminator; print the echoes.

Usage: python3 framing/client.py HOST PORT MESSAGE...

A helper thread writes the blocks while the main thread reads the answers, so a
large request cannot deadlock against a server that answers as it reads.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading

from core import TERMINATOR, BlockDecoder, FramingError, encode_block

RECV_SIZE = 65536
TIMEOUT = 30.0  # seconds any single connect, send or receive may take
NEWLINE = b"\n"


def build_request(messages: list[str]) -> bytes:
    """Return the octets to send: one block per message, then the terminator."""
    # Profile 3.1: "The client MUST send each message as exactly one block whose payload
    # is the message's UTF-8 encoding, one block per message, in the order the messages
    # were given. The length MUST count the payload's octets, not the message's
    # characters."
    blocks = [encode_block(message.encode("utf-8")) for message in messages]
    # Profile 3.2: "After the block of its last message the client MUST send a
    # zero-length block, and MUST NOT send anything after it."
    return b"".join(blocks) + TERMINATOR


def _send(sock: socket.socket, data: bytes, errors: list[OSError]) -> None:
    try:
        sock.sendall(data)
    except OSError as exc:
        errors.append(exc)


def read_answers(sock: socket.socket) -> None:
    """Print each answer's payload on its own line until the terminator's answer."""
    decoder = BlockDecoder()
    while not decoder.finished:
        data = sock.recv(RECV_SIZE)
        if not data:
            # A stream that ends mid-answer is an error; one that ends between
            # answers, without the terminator's answer, ends the output.
            decoder.end_of_stream()
            return
        # Profile 3.4: "The client MUST read the answers correctly however they are
        # divided into reads: an answer may arrive one octet at a time, and several answers
        # may arrive in one read."
        for payload in decoder.feed(data):
            if payload:
                # Profile 3.3: "The client MUST print the payload of each answer, decoded
                # as UTF-8, on its own line, in the order the answers arrive".
                payload.decode("utf-8")  # raises UnicodeDecodeError if not UTF-8
                sys.stdout.buffer.write(payload + NEWLINE)
    sys.stdout.buffer.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="framing.client: send messages as length-prefixed blocks, print the echoes."
    )
    parser.add_argument("host", help="server address, e.g. 127.0.0.1 or ::1")
    parser.add_argument("port", type=int, help="server TCP port")
    parser.add_argument("messages", nargs="*", help="non-empty messages without newlines")
    args = parser.parse_args()
    for message in args.messages:
        # Profile 1.2: "Each message is non-empty, contains no newline, and is sent as
        # its UTF-8 octets." An empty message would be sent as the terminator.
        if not message or "\n" in message:
            parser.error(f"invalid message {message!r}: must be non-empty, without newline")
    try:
        request = build_request(args.messages)
    except UnicodeEncodeError as exc:
        parser.error(f"message is not valid text: {exc}")

    send_errors: list[OSError] = []
    try:
        with socket.create_connection((args.host, args.port), timeout=TIMEOUT) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Profile 3.4: "The client MUST send all its blocks and the terminator
            # without waiting for any answer."
            sender = threading.Thread(target=_send, args=(sock, request, send_errors), daemon=True)
            sender.start()
            read_answers(sock)
            sender.join(TIMEOUT)
    except (OSError, FramingError, UnicodeDecodeError) as exc:
        sys.stdout.flush()
        print(f"client: {exc}", file=sys.stderr)
        sys.exit(1)
    if send_errors:
        print(f"client: sending failed: {send_errors[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
