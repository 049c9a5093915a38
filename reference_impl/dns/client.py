"""Mail exchanger lookup (dns.client): the addresses to try for mail to a domain, in order.

It asks one name server directly (no system resolver) for the domain's MX records, then for
the addresses of each exchange, and prints one address per line in RFC 5321 §5.1 order. Any
failure ends with a message on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Final

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rdata
import dns.rdatatype
from core import (
    ADDRESS_TYPES,
    MAX_CNAME_HOPS,
    MailError,
    addresses_in_order,
    check_rcode,
    exchanges,
    follow_chain,
)
from dns.rdtypes.ANY.MX import MX

# Waits for a UDP answer after each send: the query and 3 retransmissions, 1.5 s in all
# (a loopback answer comes in well under 0.1 s; profile 3.7 asks for at least 2 retransmissions).
UDP_WAITS: Final = (0.1, 0.2, 0.4, 0.8)
TCP_TIMEOUT: Final = 5.0
# Profile 3.7: the lookup gives up "within 30 s", whatever the number of queries it needs.
TOTAL_BUDGET: Final = 25.0
EXIT_NO_MAIL: Final = 1
EXIT_INTERRUPTED: Final = 130


class NameServer:
    """One name server, asked over UDP first and over TCP when an answer is truncated."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.deadline = time.monotonic() + TOTAL_BUDGET

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def ask(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            for wait in UDP_WAITS:
                if self.left() <= 0:
                    break
                try:
                    # Profile 3.7: a query without an answer is sent again, from the same
                    # socket with the same ID, so a late answer to an earlier copy counts.
                    # Profile 3.8: ignore_unexpected drops datagrams from another address or
                    # port; ignore_errors drops answers whose ID or question do not match.
                    return dns.query.udp(
                        query,
                        self.host,
                        timeout=min(wait, self.left()),
                        port=self.port,
                        sock=sock,
                        ignore_unexpected=True,
                        ignore_errors=True,
                        raise_on_truncation=True,
                    )
                except dns.message.Truncated:
                    # Profile 3.6: "it MUST send the same question again over TCP to the same
                    # server and use that response".
                    return self.ask_tcp(query)
                except dns.exception.Timeout:
                    continue
        kind = dns.rdatatype.to_text(rdtype)
        raise MailError(f"no answer from {self.host} port {self.port} for {name} {kind}")

    def ask_tcp(self, query: dns.message.Message) -> dns.message.Message:
        timeout = max(0.1, min(TCP_TIMEOUT, self.left()))
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setblocking(False)
                return dns.query.tcp(query, self.host, timeout=timeout, port=self.port, sock=sock)
        except (OSError, EOFError, dns.exception.DNSException) as exc:
            raise MailError(f"TCP query to {self.host} port {self.port} failed: {exc}") from exc


def canonical_records(
    server: NameServer, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> tuple[dns.name.Name, list[dns.rdata.Rdata]]:
    """The canonical name for `name` and its records of `rdtype`, following CNAMEs."""
    for _ in range(MAX_CNAME_HOPS):
        response = server.ask(name, rdtype)
        check_rcode(response, name)
        last, rrset = follow_chain(response, name, rdtype)
        if rrset is not None:
            return last, list(rrset)
        if last == name:
            return name, []  # NODATA
        # The chain leaves what this answer covers: ask again for where it ended.
        name = last
    raise MailError(f"{name.to_text()}: too many CNAMEs")


def addresses_of(server: NameServer, host: dns.name.Name) -> list[str]:
    """A and AAAA addresses of `host`; an empty list if it has none or the lookup fails."""
    found: list[str] = []
    for rdtype in ADDRESS_TYPES:
        try:
            _, records = canonical_records(server, host, rdtype)
        except MailError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            continue
        found.extend(record.to_text() for record in records)
    return found


def lookup(server: NameServer, domain: dns.name.Name) -> list[str]:
    """The addresses to try for mail to `domain`, in order; MailError if there are none."""
    # Profile 3.3: "The client MUST follow a CNAME": canonical_records returns the name the
    # chain ended at.
    canonical, records = canonical_records(server, domain, dns.rdatatype.MX)
    mx_records = [record for record in records if isinstance(record, MX)]
    # RFC 5321 §5.1: "If an empty list of MXs is returned, the address is treated as if it was
    # associated with an implicit MX RR, with a preference of 0, pointing to that host."
    hosts = exchanges(mx_records, domain) if mx_records else [canonical]
    result = addresses_in_order(hosts, {host: addresses_of(server, host) for host in hosts})
    if not result:
        raise MailError(f"{domain.to_text()}: no address to deliver mail to")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Mail exchanger lookup (dns.client).")
    parser.add_argument("host", help="name server address (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="name server port (UDP and TCP)")
    parser.add_argument("domain", help="the mail domain, such as example.test")
    args = parser.parse_args()
    try:
        addresses = lookup(NameServer(args.host, args.port), dns.name.from_text(args.domain))
    except MailError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_NO_MAIL)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    for address in addresses:
        print(address)


if __name__ == "__main__":
    main()
