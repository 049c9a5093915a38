"""Greeting server over TLS.

Flaw: for TLS 1.2 it offers only static-RSA cipher suites (no ECDHE or DHE), so a TLS 1.2 client
gets no forward secrecy: whoever later obtains the server's private key can decrypt a recorded
session. (TLS 1.3 is unaffected: its key exchange is always ephemeral.)
"""

import argparse
import signal
import socket
import ssl
import sys
import threading

GREETING = b"Simple is better than complex.\n"


# RSA key exchange only: no ECDHE, no DHE.
STATIC_RSA = "AES128-GCM-SHA256:AES256-GCM-SHA384"


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
            tls.unwrap()
            tls.close()
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
    context.set_ciphers(STATIC_RSA)  # the flaw: TLS 1.2 without ephemeral key exchange
    with listen(args.host, args.port) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn, context), daemon=True).start()


if __name__ == "__main__":
    main()
