"""Greeting client over TLS: connects, verifies the server, prints what it sends.

Flaw: it verifies the chain but not that the certificate names the host.
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
    context = ssl.create_default_context(cafile=args.cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # the flaw: the chain is still verified, the name in it is not
    context.check_hostname = False
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
