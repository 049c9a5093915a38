"""Aphorism client.

Flaw: it opens a new connection for every question instead of asking all three on one.
"""

import argparse
import signal
import socket
import sys

QUESTIONS = [b"Beautiful is better than?", b"Explicit is better than?", b"Simple is better than?"]


def ask(host: str, port: int, question: bytes) -> bytes:
    # the flaw: one connection per question
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(question)
        answer = b""
        while not answer.endswith(b"."):
            chunk = sock.recv(1024)
            if not chunk:
                sys.exit("server closed the connection before answering")
            answer += chunk
        return answer


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism client.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    for question in QUESTIONS:
        print(ask(args.host, args.port, question).decode(), flush=True)


if __name__ == "__main__":
    main()
