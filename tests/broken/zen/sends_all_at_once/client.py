"""Aphorism client.

Flaw: it sends all three questions in one write, without waiting for any answer.
"""

import argparse
import signal
import socket
import sys

QUESTIONS = [b"Beautiful is better than?", b"Explicit is better than?", b"Simple is better than?"]


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism client.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"".join(QUESTIONS))  # the flaw: does not wait for each answer
        data = b""
        while data.count(b".") < len(QUESTIONS):
            chunk = sock.recv(1024)
            if not chunk:
                sys.exit("server closed the connection before answering")
            data += chunk
        for answer in data.split(b".")[: len(QUESTIONS)]:
            print((answer + b".").decode(), flush=True)


if __name__ == "__main__":
    main()
