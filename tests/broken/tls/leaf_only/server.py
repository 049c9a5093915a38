"""Greeting server over TLS: sends one line on each connection, then closes.

Flaw: it loads only the first certificate of the certfile, so the intermediate is never sent.
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import tempfile
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


def first_certificate(certfile: str, folder: str) -> str:
    """Copy the first PEM block of certfile (the server's own certificate) to a file."""
    end = "-----END CERTIFICATE-----"
    with open(certfile) as f:
        text = f.read()
    path = os.path.join(folder, "leaf.pem")
    with open(path, "w") as f:
        f.write(text[: text.index(end) + len(end)] + "\n")
    return path


def handle(conn: socket.socket, context: ssl.SSLContext) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(10)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(GREETING)
                tls.unwrap()
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
    with tempfile.TemporaryDirectory() as folder:
        # the flaw: only the server's own certificate, the rest of the chain is dropped
        context.load_cert_chain(first_certificate(args.certfile, folder), args.keyfile)
    with listen(args.host, args.port) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn, context), daemon=True).start()


if __name__ == "__main__":
    main()
