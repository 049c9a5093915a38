"""Aphorism client.

Flaw: after its three answers it waits for the server to hang up instead of closing itself.
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
    sock = socket.create_connection((args.host, args.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for question in QUESTIONS:
        sock.sendall(question)
        answer = b""
        while not answer.endswith(b"."):
            chunk = sock.recv(1024)
            if not chunk:
                sys.exit("server closed the connection before answering")
            answer += chunk
        print(answer.decode(), flush=True)
    # the flaw: wait for the server to close, never close first
    sock.settimeout(None)
    while sock.recv(1024):
        pass


if __name__ == "__main__":
    main()
