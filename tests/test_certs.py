"""The certificate scenarios do what they say: a verifying client (the standard library's defaults,
trusting only the session root) accepts the good ones and refuses each broken one for its reason."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest

from fixtures.certs import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def handshake(
    pki: Pki,
    scenario: str,
    host: str = "localhost",
    client_cert: bool = False,
    require_client: bool = False,
) -> str:
    """Serve ``scenario`` once on loopback and connect a verifying client; "ok" or the error."""
    files = pki.scenarios[scenario]
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(files.certfile, files.keyfile)
    if require_client:
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        server_ctx.load_verify_locations(pki.cafile)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello\n")
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(pki.cafile))
    if client_cert:
        client_ctx.load_cert_chain(pki.client.certfile, pki.client.keyfile)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client_ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            data = tls.recv(100)
            return "ok" if data == b"hello\n" else f"got {data!r}"
    except ssl.SSLError as exc:
        return str(exc)
    finally:
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("scenario", ["good", "good-ecdsa", "chain"])
def test_good_scenarios_verify(pki: Pki, scenario: str) -> None:
    assert handshake(pki, scenario) == "ok"


@pytest.mark.parametrize("host", ["127.0.0.1"])
def test_good_leaf_names_the_addresses(pki: Pki, host: str) -> None:
    assert handshake(pki, "good", host=host) == "ok"


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("chain-leaf-only", "unable to get local issuer certificate"),
        ("wrong-host", "Hostname mismatch"),
        ("expired", "certificate has expired"),
        ("not-yet-valid", "certificate is not yet valid"),
        ("untrusted", "unable to get local issuer certificate"),
        ("self-signed", "self-signed certificate"),
    ],
)
def test_broken_scenarios_are_refused_for_their_reason(
    pki: Pki, scenario: str, reason: str
) -> None:
    assert reason in handshake(pki, scenario)


def test_client_certificate_is_accepted_by_a_server_that_requires_one(pki: Pki) -> None:
    assert handshake(pki, "good", client_cert=True, require_client=True) == "ok"


def test_chain_file_holds_leaf_then_intermediate(pki: Pki) -> None:
    pems = Path(pki.scenarios["chain"].certfile).read_text().count("BEGIN CERTIFICATE")
    assert pems == 2


def test_placeholders(pki: Pki) -> None:
    values = pki.placeholders()
    assert set(values) == {"certfile", "keyfile", "cafile", "clientcert", "clientkey"}
    assert all(Path(v).exists() for v in values.values())


def test_client_certificate_from_another_authority_is_issued_by_the_stranger(pki: Pki) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_pem_x509_certificate(pki.scenarios["client-untrusted"].certfile.read_bytes())
    issuer = cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert issuer == "an authority nobody trusts"
