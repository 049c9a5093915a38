"""Client of the upper-casing echo.

Flaw: it writes all its text before it reads anything, so with a large text both sides end up
blocked in a write (deadlock) once the socket buffers are full.
"""

import argparse
import signal
import socket
import sys

PANGRAM = b"The quick brown fox jumps over the lazy dog.\n"
UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))


def make_text(size: int) -> bytes:
    return (PANGRAM * (size // len(PANGRAM) + 1))[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description="Upper-casing echo client.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("bytes", type=int)
    args = parser.parse_args()
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    text = make_text(args.bytes)
    sock = socket.create_connection((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(text)  # the flaw: nothing is read until everything is written
    sock.shutdown(socket.SHUT_WR)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    if b"".join(chunks) != text.translate(UPPER):
        sys.exit("reply is not the upper-cased text")


if __name__ == "__main__":
    main()
