"""Greeting server over TLS: sends one line on each connection, then closes.

Flaw: it closes the socket without unwrap(), so no close_notify alert is sent.
"""

import argparse
import signal
import socket
import ssl
import sys
import threading

GREETING = b"Simple is better than complex.\n"


def stop(signum: int, frame: object) -> None:
    sys.exit(0)


def listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.listen(64)
    return listener


def handle(conn: socket.socket, context: ssl.SSLContext) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(10)
        try:
            tls = context.wrap_socket(conn, server_side=True)
            tls.sendall(GREETING)
            tls.close()  # the flaw: no tls.unwrap(), so no close_notify
        except OSError:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description="Greeting server over TLS.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("certfile")
    parser.add_argument("keyfile")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.certfile, args.keyfile)
    with listen(args.host, args.port) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn, context), daemon=True).start()


if __name__ == "__main__":
    main()
