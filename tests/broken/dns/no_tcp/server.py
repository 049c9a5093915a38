"""A small authoritative DNS server for one zone file, over UDP."""

import argparse
import signal
import socket
import sys

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

IN = dns.rdataclass.IN


def make_rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))


def soa_rrset(zone: dns.zone.Zone) -> dns.rrset.RRset:
    rdataset = zone.find_rdataset(zone.origin, dns.rdatatype.SOA)
    return dns.rrset.from_rdata_list(zone.origin, min(rdataset.ttl, rdataset[0].minimum), rdataset)


def find_cut(zone: dns.zone.Zone, name: dns.name.Name) -> dns.name.Name | None:
    cut = None
    while name != zone.origin:
        node = zone.get_node(name)
        if node is not None and node.get_rdataset(IN, dns.rdatatype.NS) is not None:
            cut = name
        name = name.parent()
    return cut


def build_answer(zone: dns.zone.Zone, query: dns.message.Message) -> dns.message.Message:
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        response = dns.message.Message(id=query.id)
        response.flags = dns.flags.QR | (query.flags & dns.flags.RD)
        response.set_opcode(query.opcode())
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        else:
            response.set_rcode(dns.rcode.FORMERR)
        return response
    response = dns.message.make_response(query, our_payload=1232)
    qname = query.question[0].name
    qtype = query.question[0].rdtype
    if not qname.is_subdomain(zone.origin):
        response.set_rcode(dns.rcode.REFUSED)
        return response
    response.flags |= dns.flags.AA
    name = qname
    for _ in range(10):
        cut = find_cut(zone, name)
        if cut is not None:
            if not response.answer:
                response.flags &= ~dns.flags.AA  # a referral is not authoritative
            ns_set = zone.find_rdataset(cut, dns.rdatatype.NS)
            response.authority.append(make_rrset(cut, ns_set))
            for ns in ns_set:
                node = zone.get_node(ns.target)
                for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    glue = node.get_rdataset(IN, rdtype) if node else None
                    if glue is not None:
                        response.additional.append(make_rrset(ns.target, glue))
            return response
        node = zone.get_node(name)
        if node is None:
            below = any(n != name and n.is_subdomain(name) for n in zone.nodes)
            if not below:
                response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(soa_rrset(zone))
            return response
        rdataset = node.get_rdataset(IN, qtype)
        if rdataset is not None:
            response.answer.append(make_rrset(name, rdataset))
            return response
        cname = node.get_rdataset(IN, dns.rdatatype.CNAME)
        if cname is None:
            response.authority.append(soa_rrset(zone))  # the name exists, the type does not
            return response
        response.answer.append(make_rrset(name, cname))
        name = cname[0].target
        if not name.is_subdomain(zone.origin):
            return response
    return response


def handle(zone: dns.zone.Zone, data: bytes, limit: int | None) -> bytes | None:
    if len(data) < 12:
        return None
    try:
        query = dns.message.from_wire(data)
    except dns.exception.DNSException:
        header = bytearray(data[:12])
        header[2] = 0x80 | (header[2] & 0x79)
        header[3] = dns.rcode.FORMERR
        return bytes(header[:4]) + bytes(8)
    if query.flags & dns.flags.QR:
        return None
    response = build_answer(zone, query)
    if limit is None:  # always: there is only UDP
        limit = 512 if query.edns < 0 else min(max(query.payload, 512), 1232)
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def main() -> None:
    parser = argparse.ArgumentParser(description="Authoritative DNS server for one zone.")
    parser.add_argument("host", help="address to listen on")
    parser.add_argument("port", type=int, help="UDP port")
    parser.add_argument("zonefile", help="zone file (master-file format)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    signal.alarm(120)  # a test run never needs a server for longer

    zone = dns.zone.from_file(args.zonefile, relativize=False)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((args.host, args.port))
    try:
        while True:
            data, address = udp.recvfrom(65535)
            reply = handle(zone, data, None)
            if reply is not None:
                udp.sendto(reply, address)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
