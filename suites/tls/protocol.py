"""The tls suite's own wire knowledge: the greeting, TLS contexts and a small ClientHello parser.

The judge's contexts are built here, independently of any implementation: the verifying client
(profile §1.4), the old-version and static-RSA probes (§2.4, §2.5) and the suite's servers for the
client cases (§3).
"""

from __future__ import annotations

import contextlib
import dataclasses
import ssl
import struct
import warnings

# Profile §1.4: "The *greeting* is the 30 ASCII octets `Simple is better than complex.` followed
# by a line feed (0x0A); a carriage return (0x0D) before the line feed is tolerated."
TEXT = b"Simple is better than complex."
GREETING = TEXT + b"\n"
GREETINGS = (GREETING, TEXT + b"\r\n")

# Profile §2.4: the probe offers everything its library has at security level 0.
OLD_CIPHERS = "DEFAULT:@SECLEVEL=0"
# Profile §2.5: static-RSA suites first, then the forward-secret ones, in this order.
STATIC_RSA_FIRST = (
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
)
FORWARD_SECRET_PREFIXES = ("ECDHE-", "DHE-", "TLS_")  # TLS 1.3 suites are always ephemeral

# TLS wire constants (RFC 8446 §4, §5.1; RFC 6066 §3).
RECORD_HANDSHAKE = 22
HANDSHAKE_CLIENT_HELLO = 1
EXT_SERVER_NAME = 0
EXT_SUPPORTED_VERSIONS = 43
SNI_HOST_NAME = 0
RECORD_HEADER = 5
MAX_RECORD = 16384 + 2048
VERSION_NAMES = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}
OLD_VERSIONS = (0x0300, 0x0301, 0x0302)


def version_name(version: int) -> str:
    return VERSION_NAMES.get(version, f"0x{version:04x}")


def verifying_context(
    cafile: str, clientcert: str | None = None, clientkey: str | None = None
) -> ssl.SSLContext:
    """Profile §1.4: trusts the session root only, TLS 1.2 and 1.3, checks path and name."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cafile=cafile)
    if clientcert:
        ctx.load_cert_chain(clientcert, clientkey)
    return ctx


def unverified_context(version: ssl.TLSVersion | None = None, ciphers: str = "") -> ssl.SSLContext:
    """A probe that checks nothing, for one protocol version (§2.4, §2.5) or the usual ones."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if ciphers:
            ctx.set_ciphers(ciphers)
        if version is not None:
            ctx.minimum_version = version
            ctx.maximum_version = version
    return ctx


def server_context(
    certfile: str,
    keyfile: str,
    *,
    version: ssl.TLSVersion | None = None,
    ciphers: str = "",
    client_ca: str = "",
) -> ssl.SSLContext:
    """The suite's own server for the client cases (§3): one version only, or TLS 1.2 and 1.3."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if ciphers:
            ctx.set_ciphers(ciphers)
        if version is not None:
            ctx.minimum_version = version
            ctx.maximum_version = version
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(certfile, keyfile)
    if client_ca:
        ctx.load_verify_locations(cafile=client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def first_certificate_der(certfile: str) -> bytes:
    """The first certificate of a PEM file (the leaf of `{certfile}`), as DER."""
    text = open(certfile, encoding="ascii").read()  # noqa: SIM115 - small file, read whole
    end = "-----END CERTIFICATE-----"
    return ssl.PEM_cert_to_DER_cert(text[: text.index(end) + len(end)] + "\n")


def client_hello_bytes() -> bytes:
    """A real ClientHello (TLS 1.2 and 1.3, SNI localhost), made without a socket (§2.6)."""
    ctx = unverified_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


@dataclasses.dataclass
class ClientHello:
    legacy_version: int
    cipher_suites: list[int]
    # None: no server_name extension; else the (name_type, name) entries it lists.
    server_names: list[tuple[int, bytes]] | None
    # None: no supported_versions extension; else the versions it lists.
    supported_versions: list[int] | None

    def summary(self) -> str:
        sni = (
            "none"
            if self.server_names is None
            else ", ".join(f"{t}:{n.decode('ascii', 'replace')}" for t, n in self.server_names)
        )
        versions = (
            "none"
            if self.supported_versions is None
            else ", ".join(version_name(v) for v in self.supported_versions)
        )
        return (
            f"ClientHello: legacy_version {version_name(self.legacy_version)}; "
            f"server_name: {sni}; supported_versions: {versions}; "
            f"{len(self.cipher_suites)} cipher suites"
        )


class NotAClientHello(ValueError):
    """The octets are not (the start of) a TLS ClientHello."""


def handshake_message(data: bytes) -> bytes | None:
    """The first handshake message carried by the records at the start of ``data``.

    None while more octets are needed; NotAClientHello when they cannot start one.
    """
    body = b""
    pos = 0
    while True:
        if len(data) < pos + RECORD_HEADER:
            return None
        kind, _version, length = struct.unpack_from("!BHH", data, pos)
        if kind != RECORD_HANDSHAKE or length > MAX_RECORD:
            raise NotAClientHello(f"record type {kind}, length {length}")
        if len(data) < pos + RECORD_HEADER + length:
            return None
        body += data[pos + RECORD_HEADER : pos + RECORD_HEADER + length]
        pos += RECORD_HEADER + length
        if len(body) >= 4:
            if body[0] != HANDSHAKE_CLIENT_HELLO:
                raise NotAClientHello(f"handshake type {body[0]}")
            size = int.from_bytes(body[1:4], "big")
            if len(body) >= 4 + size:
                return body[4 : 4 + size]


def _vector(data: bytes, pos: int, width: int) -> tuple[bytes, int]:
    size = int.from_bytes(data[pos : pos + width], "big")
    end = pos + width + size
    if end > len(data):
        raise NotAClientHello("a length runs past the end of the message")
    return data[pos + width : end], end


def parse_client_hello(body: bytes) -> ClientHello:
    """RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2): the fields this suite judges."""
    if len(body) < 2 + 32:
        raise NotAClientHello("too short")
    legacy_version = int.from_bytes(body[:2], "big")
    pos = 2 + 32
    _session, pos = _vector(body, pos, 1)
    suites, pos = _vector(body, pos, 2)
    _compression, pos = _vector(body, pos, 1)
    names: list[tuple[int, bytes]] | None = None
    versions: list[int] | None = None
    if pos < len(body):
        extensions, _ = _vector(body, pos, 2)
        epos = 0
        while epos + 4 <= len(extensions):
            ext_type = int.from_bytes(extensions[epos : epos + 2], "big")
            ext, epos = _vector(extensions, epos + 2, 2)
            if ext_type == EXT_SERVER_NAME:
                names = []
                entries, _ = _vector(ext, 0, 2)
                npos = 0
                while npos + 3 <= len(entries):
                    name, end = _vector(entries, npos + 1, 2)
                    names.append((entries[npos], name))
                    npos = end
            elif ext_type == EXT_SUPPORTED_VERSIONS:
                listed, _ = _vector(ext, 0, 1)
                versions = [
                    int.from_bytes(listed[i : i + 2], "big") for i in range(0, len(listed), 2)
                ]
    return ClientHello(
        legacy_version,
        [int.from_bytes(suites[i : i + 2], "big") for i in range(0, len(suites) - 1, 2)],
        names,
        versions,
    )
