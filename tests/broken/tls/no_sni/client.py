"""Greeting client over TLS: connects, verifies the server, prints what it sends.

Flaw: it sends no SNI: it connects without server_hostname and checks the name by hand.
"""

import argparse
import ipaddress
import signal
import socket
import ssl
import sys


def names_host(cert: dict, host: str) -> bool:
    """Whether the certificate's subjectAltName lists host (a DNS name or an IP address)."""
    try:
        wanted = ipaddress.ip_address(host)
    except ValueError:
        return ("DNS", host.lower()) in [(k, v.lower()) for k, v in cert.get("subjectAltName", ())]
    for kind, value in cert.get("subjectAltName", ()):
        if kind == "IP Address" and ipaddress.ip_address(value.strip()) == wanted:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description="Greeting client over TLS.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("cafile")
    args = parser.parse_args()
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    context = ssl.create_default_context(cafile=args.cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # the flaw: without server_hostname no SNI is sent; the name is checked by hand instead
    context.check_hostname = False
    try:
        with (
            socket.create_connection((args.host, args.port), timeout=10) as sock,
            context.wrap_socket(sock, server_hostname=None) as tls,
        ):
            if not names_host(tls.getpeercert(), args.host):
                print(f"client: the certificate does not name {args.host}", file=sys.stderr)
                sys.exit(1)
            while data := tls.recv(4096):
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
    except OSError as exc:
        print(f"client: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
