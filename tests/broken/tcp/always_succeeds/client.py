"""Client of the upper-casing echo: a thread writes while the main thread reads.

Flaw: it exits with status 0 whatever the reply is, so it reports success against a server that
is wrong.
"""

import argparse
import signal
import socket
import threading

PANGRAM = b"The quick brown fox jumps over the lazy dog.\n"


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
    try:
        sock = socket.create_connection((args.host, args.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=send_text, args=(sock, text), daemon=True).start()
        received = 0
        while chunk := sock.recv(65536):
            received += len(chunk)
        sock.close()
        print(f"received {received} octets")
    except OSError as exc:
        print(f"error: {exc}")
    # the flaw: the reply is never compared with the upper-cased text; the exit status is 0


if __name__ == "__main__":
    main()
