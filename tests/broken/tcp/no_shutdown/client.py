"""Client of the upper-casing echo: a thread writes while the main thread reads.

Flaw: it never shuts down its sending side, then waits for the server to close, which a server
that waits for the end of the text never does (this client gives up after 120 s).
"""

import argparse
import os
import signal
import socket
import sys
import threading

PANGRAM = b"The quick brown fox jumps over the lazy dog.\n"
UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))


def make_text(size: int) -> bytes:
    return (PANGRAM * (size // len(PANGRAM) + 1))[:size]


def give_up(signum: int, frame: object) -> None:
    print("no end of reply after 120 s, giving up", file=sys.stderr, flush=True)
    os._exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description="Upper-casing echo client.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("bytes", type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    text = make_text(args.bytes)
    sock = socket.create_connection((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # the flaw: sendall() and nothing else, no shutdown(SHUT_WR) after it
    threading.Thread(target=sock.sendall, args=(text,), daemon=True).start()
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    if b"".join(chunks) != text.translate(UPPER):
        sys.exit("reply is not the upper-cased text")


if __name__ == "__main__":
    main()
