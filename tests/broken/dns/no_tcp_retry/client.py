"""Mail exchanger lookup: prints the addresses to try for mail to a domain, best first."""

import argparse
import signal
import socket
import sys
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

WAITS = [0.5, 1.0, 2.0, 4.0]


class LookupFailed(Exception):
    pass


def ask(host: str, port: int, name: dns.name.Name, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        for wait in WAITS:
            sock.sendto(query.to_wire(), (host, port))
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data, source = sock.recvfrom(65535)
                except TimeoutError:
                    break
                if source[:2] != (host, port):
                    continue  # not from the server we asked
                try:
                    response = dns.message.from_wire(data, raise_on_truncation=True)
                except dns.message.Truncated as e:
                    response = e.message()  # TC: use what did arrive
                except dns.exception.DNSException:
                    continue
                if not query.is_response(response):
                    continue  # wrong ID or wrong question
                return response
    raise LookupFailed(f"no answer from {host} port {port} for {name} {rdtype}")


def records(host: str, port: int, name: dns.name.Name, rdtype: str) -> tuple[dns.name.Name, list]:
    """The records of one type for a name, following CNAMEs; and the name they belong to."""
    for _ in range(10):
        response = ask(host, port, name, rdtype)
        if response.rcode() == dns.rcode.NXDOMAIN:
            raise LookupFailed(f"{name} does not exist")
        if response.rcode() != dns.rcode.NOERROR:
            raise LookupFailed(f"{name}: server says {dns.rcode.to_text(response.rcode())}")
        start = name
        for _ in range(10):
            found = [r for r in response.answer if r.name == name]
            wanted = [r for r in found if r.rdtype == dns.rdatatype.from_text(rdtype)]
            if wanted:
                return name, list(wanted[0])
            cnames = [r for r in found if r.rdtype == dns.rdatatype.CNAME]
            if not cnames:
                break
            name = cnames[0][0].target
        if name == start:
            return name, []
    raise LookupFailed("too many CNAMEs")


def addresses(host: str, port: int, name: dns.name.Name) -> list[str]:
    result = []
    for rdtype in ["A", "AAAA"]:
        try:
            result += [r.address for r in records(host, port, name, rdtype)[1]]
        except LookupFailed as e:
            print(f"warning: {e}", file=sys.stderr)
    return result


def mail_addresses(host: str, port: int, domain: dns.name.Name) -> list[str]:
    name, mxs = records(host, port, domain, "MX")
    if not mxs:
        hosts = [name]  # no MX: the domain itself is the mail host (implicit MX)
    else:
        if any(mx.exchange == dns.name.root for mx in mxs):
            raise LookupFailed(f"{domain} does not accept mail (null MX)")
        mxs.sort(key=lambda mx: mx.preference)
        hosts = [mx.exchange for mx in mxs]
    result = []
    for h in hosts:
        for address in addresses(host, port, h):
            if address not in result:
                result.append(address)
    if not result:
        raise LookupFailed(f"no address to send mail for {domain} to")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the addresses to try for mail.")
    parser.add_argument("host", help="name server address")
    parser.add_argument("port", type=int, help="name server port")
    parser.add_argument("domain", help="mail domain")
    args = parser.parse_args()
    signal.alarm(120)
    try:
        result = mail_addresses(args.host, args.port, dns.name.from_text(args.domain))
    except LookupFailed as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    for address in result:
        print(address)


if __name__ == "__main__":
    main()
