"""Greeting client (tls.client): connect over TLS, verify the server, print what it sends."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Final

from core import client_context, describe_failure

RECV_SIZE: Final = 4096
TIMEOUT: Final = 10.0  # seconds to wait for the connection, the handshake or the next octets


def main() -> None:
    parser = argparse.ArgumentParser(description="Greeting client over TLS (tls.client).")
    parser.add_argument("host", help="name or address of the server, checked in its certificate")
    parser.add_argument("port", type=int, help="TCP port of the server")
    parser.add_argument("cafile", help="PEM file of the authorities to trust")
    parser.add_argument("clientcert", nargs="?", default="", help="PEM file: client certificate")
    parser.add_argument("clientkey", nargs="?", default="", help="PEM file: its private key")
    args = parser.parse_args()
    try:
        context = client_context(args.cafile, args.clientcert, args.clientkey)
        with socket.create_connection((args.host, args.port), timeout=TIMEOUT) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Profile 3.3: "When `{host}` is a DNS name, the client SHOULD send the
            # server_name extension (RFC 6066 §3) with one HostName equal to `{host}`." The ssl
            # module sends SNI for a name and none for an IP address, and checks either one.
            # Profile 3.5: "The client MUST accept the end of the TCP connection without a
            # close_notify alert after the greeting": suppress_ragged_eofs reads it as b"".
            with context.wrap_socket(
                sock, server_hostname=args.host, suppress_ragged_eofs=True
            ) as tls:
                # Profile 3.1: the client MUST "write every octet it receives to its standard
                # output, and exit with status 0 when the server has closed the connection".
                while data := tls.recv(RECV_SIZE):
                    sys.stdout.buffer.write(data)
                    sys.stdout.buffer.flush()
    except OSError as exc:
        # Profile 3.2: "it MUST refuse the server: it MUST NOT write the server's data to its
        # standard output, and MUST exit with a non-zero status".
        print(f"tls client: {describe_failure(exc)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
