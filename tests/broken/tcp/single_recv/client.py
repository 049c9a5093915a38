"""Client of the upper-casing echo: a thread writes while the main thread reads.

Flaw: it reads the reply with a single recv(65536) and compares that, so a reply longer than
one read, or one that arrives in pieces, is judged wrong.
"""

import argparse
import signal
import socket
import sys
import threading

PANGRAM = b"The quick brown fox jumps over the lazy dog.\n"
UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))


def make_text(size: int) -> bytes:
    return (PANGRAM * (size // len(PANGRAM) + 1))[:size]


def send_text(sock: socket.socket, text: bytes) -> None:
    try:
        sock.sendall(text)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


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
    threading.Thread(target=send_text, args=(sock, text), daemon=True).start()
    reply = sock.recv(65536)  # the flaw: one read is taken for the whole reply
    sock.close()
    if reply != text.translate(UPPER):
        sys.exit(f"reply is not the upper-cased text ({len(reply)} octets)")


if __name__ == "__main__":
    main()
