"""Greeting client over TLS: connects, verifies the server, prints what it sends.

Flaw: it never verifies the server's certificate (CERT_NONE, no host-name check).
"""

import argparse
import signal
import socket
import ssl
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description="Greeting client over TLS.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("cafile")
    args = parser.parse_args()
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # the flaw: "certificate errors on my machine", so checking is switched off
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((args.host, args.port), timeout=10) as sock,
            context.wrap_socket(sock, server_hostname=args.host) as tls,
        ):
            while data := tls.recv(4096):
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
    except OSError as exc:
        print(f"client: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
