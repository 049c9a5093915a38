"""The plugin, tested with pytester: verdicts, strictness, errors, selection, markers, reports."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wirecheck.manifest import Role
from wirecheck.verdicts import ImplementationError

# An implementation of a toy "echo" role: upper-cases one line per connection, then closes.
# With CRASH in its arguments it exits, without answering, when it reads "hello".
ECHO_SERVER = """
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
crash = "CRASH" in sys.argv
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port)); s.listen(8)
sys.stderr.write("echo server listening\\n")
while True:
    c, _ = s.accept()
    data = b""
    while not data.endswith(b"\\n"):
        chunk = c.recv(100)
        if not chunk:
            break
        data += chunk
    if crash and data == b"hello\\n":
        sys.stderr.write("crashing now\\n"); sys.exit(7)
    c.sendall(data.upper()); c.close()
"""

SUITE = """
import pytest
from wirecheck import MAY, MUST, SHOULD, case, expect, unimplemented

pytestmark = pytest.mark.role("toy.server")

def roundtrip(server, data):
    with server.connect() as conn:
        conn.send(data)
        return conn.recv_until(b"\\n", limit=100)

@case("toy/1.1/1", MUST, "The server MUST upper-case the line it receives.")
def test_must_pass(server):
    got = roundtrip(server, b"abc\\n")
    expect(got == b"ABC\\n", expected="b'ABC\\\\n'", actual=repr(got))

@case("toy/1.2/1", MUST, "The server MUST answer in French (it never does).")
def test_must_fail(server):
    got = roundtrip(server, b"hello\\n")
    expect(got == b"BONJOUR\\n", expected="b'BONJOUR\\\\n'", actual=repr(got))

@case("toy/2.1/1", SHOULD, "The server SHOULD answer in French (it never does).")
def test_should_fail(server):
    got = roundtrip(server, b"hello\\n")
    expect(got == b"BONJOUR\\n", expected="b'BONJOUR\\\\n'", actual=repr(got))

@case("toy/3.1/1", MAY, "The server MAY answer in French (it never does).")
def test_may_fail(server):
    got = roundtrip(server, b"hello\\n")
    expect(got == b"BONJOUR\\n", expected="b'BONJOUR\\\\n'", actual=repr(got))

@case("toy/4.1/1", MUST, "The server MUST support the optional feature, if it offers it.")
def test_unimplemented(server):
    unimplemented("the feature is not offered")
"""

CLIENT_SUITE = """
import pytest
from wirecheck import MUST, case

pytestmark = pytest.mark.role("toy.client")

@case("toy/5.1/1", MUST, "The client MUST exist for this case to run.")
def test_client(client):
    pass
"""


def manifest(folder: Path, name: str, command: str, role: str = "toy.server") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "echo.py").write_text(ECHO_SERVER)
    suite, r = role.split(".")
    (folder / "impl.toml").write_text(f'name = "{name}"\n[{suite}.{r}]\ncommand = "{command}"\n')
    return folder / "impl.toml"


@pytest.fixture
def toy(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(
        "[pytest]\naddopts = -p wirecheck.plugin --strict-markers -p no:cacheprovider\n"
    )
    pytester.makepyfile(test_toy=SUITE)
    manifest(pytester.path / "impls" / "good", "good", "{python} echo.py {host} {port}")
    return pytester


def results(pytester: pytest.Pytester) -> dict[str, dict[str, Any]]:
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    return {f"{r['impl']}:{r['case']}": r for r in data["results"]}


def test_verdicts_follow_levels(toy: pytest.Pytester) -> None:
    res = toy.runpytest("--impl", "impls/good")
    res.assert_outcomes(passed=3, failed=1, skipped=1)
    got = {k: v["verdict"] for k, v in results(toy).items()}
    assert got == {
        "good:toy/1.1/1": "pass",
        "good:toy/1.2/1": "fail",
        "good:toy/2.1/1": "non-strict",
        "good:toy/3.1/1": "informational",
        "good:toy/4.1/1": "unimplemented",
    }


def test_strict_conformance_fails_a_broken_should(toy: pytest.Pytester) -> None:
    res = toy.runpytest("--impl", "impls/good", "--strict-conformance")
    res.assert_outcomes(passed=2, failed=2, skipped=1)
    assert results(toy)["good:toy/2.1/1"]["verdict"] == "non-strict"


def test_failure_says_requirement_expected_actual_transcript_reproduce(
    toy: pytest.Pytester,
) -> None:
    res = toy.runpytest("--impl", "impls/good", "--spec", "toy/1.2")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    for text in (
        "requirement: The server MUST answer in French",
        "expected:    b'BONJOUR\\n'",
        "actual:      b'HELLO\\n'",
        "> sent",
        "< recv",
        "b'hello\\n'",
        "echo server listening",
        "python3 -m pytest",
        "socket.create_connection",
    ):
        assert text in out, text


def test_spec_selects_by_case_id_prefix(toy: pytest.Pytester) -> None:
    res = toy.runpytest("--impl", "impls/good", "--spec", "toy/1", "--spec", "toy/3.1/1")
    res.assert_outcomes(passed=2, failed=1, deselected=2)


def test_server_that_never_listens_is_an_error_not_a_failure(toy: pytest.Pytester) -> None:
    manifest(toy.path / "impls" / "mute", "mute", "{python} -c 'import time; time.sleep(30)'")
    res = toy.runpytest("--impl", "impls/mute", "--timeout-scale", "0.05")
    res.assert_outcomes(errors=5)
    r = results(toy)["mute:toy/1.1/1"]
    assert r["verdict"] == "error"
    assert "never accepted connections" in r["actual"] and "command:" in r["actual"]


def test_server_that_exits_is_an_error_with_its_status_and_stderr(toy: pytest.Pytester) -> None:
    cmd = "{python} -c 'import sys; sys.stderr.write(\\\"bad config\\\"); sys.exit(3)'"
    manifest(toy.path / "impls" / "dead", "dead", cmd)
    res = toy.runpytest("--impl", "impls/dead")
    res.assert_outcomes(errors=5)
    actual = results(toy)["dead:toy/1.1/1"]["actual"]
    assert "exit status 3" in actual and "bad config" in actual


def test_crash_during_a_case_fails_it_and_the_server_is_restarted(toy: pytest.Pytester) -> None:
    manifest(toy.path / "impls" / "crashy", "crashy", "{python} echo.py {host} {port} CRASH")
    res = toy.runpytest("--impl", "impls/crashy", "--spec", "toy/1", "--spec", "toy/3")
    res.assert_outcomes(passed=1, failed=2)
    r = results(toy)
    assert r["crashy:toy/1.1/1"]["verdict"] == "pass"
    crashed = r["crashy:toy/1.2/1"]
    assert crashed["verdict"] == "fail", crashed
    assert "exited during the case (exit status 7)" in crashed["actual"]
    assert "crashing now" in crashed["stderr"]
    # The next case gets a new server, and says so; a crash is a failure even in a MAY case.
    assert any("restarted" in n for n in r["crashy:toy/3.1/1"]["notes"])
    assert r["crashy:toy/3.1/1"]["verdict"] == "fail"


def test_role_not_provided_is_skipped(toy: pytest.Pytester) -> None:
    toy.makepyfile(test_client=CLIENT_SUITE)
    res = toy.runpytest("--impl", "impls/good", "test_client.py")
    res.assert_outcomes(skipped=1)
    res.stdout.no_fnmatch_line("*error*")
    assert results(toy)["good:toy/5.1/1"]["actual"].endswith("not provided")


def test_impl_folder_takes_every_manifest_below_it(toy: pytest.Pytester) -> None:
    manifest(toy.path / "impls" / "other", "other", "{python} echo.py {host} {port}")
    toy.runpytest("--impl", "impls", "--spec", "toy/1.1")
    assert set(results(toy)) == {"good:toy/1.1/1", "other:toy/1.1/1"}
    html = (toy.path / "reports" / "report.html").read_text()
    assert "Implementations × cases" in html
    assert (toy.path / "reports" / "report-other.html").exists()


def test_junit_carries_verdicts(toy: pytest.Pytester) -> None:
    toy.runpytest("--impl", "impls/good")
    tree = ET.parse(toy.path / "reports" / "junit.xml")
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    must_fail = cases["test_must_fail[good]"]
    assert must_fail.find("failure") is not None
    should = cases["test_should_fail[good]"]
    assert should.find("failure") is None
    props = {p.get("name"): p.get("value") for p in should.iter("property")}
    assert props["verdict"] == "non-strict" and props["case"] == "toy/2.1/1"
    assert cases["test_unimplemented[good]"].find("skipped") is not None


def test_malformed_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = -p wirecheck.plugin -p no:cacheprovider\n")
    pytester.makepyfile(
        test_bad="""
        import pytest
        pytestmark = pytest.mark.role("toy.server")
        @pytest.mark.spec("toy/one/1", "MUST", "A requirement quoted in words.")
        def test_a(): pass
        def test_b(): pass
    """
    )
    res = pytester.runpytest()
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    err = res.stderr.str()
    assert "is not <suite>/<section>/<n>" in err and "test_b: a conformance case needs" in err


@pytest.fixture
def running_echo() -> Iterator[tuple[str, int]]:
    """An echo server of the test's own, already running: the target of --target."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                data = b""
                try:
                    while not data.endswith(b"\n"):
                        chunk = conn.recv(100)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(data.upper())
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "127.0.0.1", listener.getsockname()[1]
    stop.set()
    thread.join(1)
    listener.close()


def test_target_checks_a_running_server(
    toy: pytest.Pytester, running_echo: tuple[str, int]
) -> None:
    host, port = running_echo
    res = toy.runpytest("--target", f"toy.server={host}:{port}", "--spec", "toy/1")
    res.assert_outcomes(passed=1, failed=1)
    assert results(toy)["target:toy/1.1/1"]["verdict"] == "pass"


# -- placeholders ---------------------------------------------------------------------------------
def test_filled_values_are_never_resplit(tmp_path: Path) -> None:
    role = Role(
        "x.client", "{python} c.py --name={host} '{workdir}/out file' {messages} -x", tmp_path
    )
    argv = role.argv(
        {"python": "py", "host": "a b", "workdir": "/w d", "messages": ["one two", "three"]}
    )
    assert argv == ["py", "c.py", "--name=a b", "/w d/out file", "one two", "three", "-x"]


def test_unknown_placeholder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImplementationError, match=r"uses \{zonefile\}"):
        Role("x.server", "{python} s.py {zonefile}", tmp_path).argv({"python": "py"})


def test_report_is_self_contained_and_escapes_what_implementations_send(
    toy: pytest.Pytester,
) -> None:
    hostile = "import socket,sys\n" + textwrap.dedent("""
        s = socket.create_server((sys.argv[1], int(sys.argv[2])))
        while True:
            c, _ = s.accept(); c.recv(100); c.sendall(b"<script>alert(1)</script>\\n"); c.close()
    """)
    folder = toy.path / "impls" / "xss"
    manifest(folder, "xss", "{python} xss.py {host} {port}")
    (folder / "xss.py").write_text(hostile)
    toy.runpytest("--impl", "impls/xss", "--spec", "toy/1.1")
    html = (toy.path / "reports" / "report.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html


RUNNING_CLIENT_SUITE = """
import pytest
from wirecheck import MUST, case, expect

pytestmark = pytest.mark.role("toy.client")

@case("toy/6.1/1", MUST, "The client MUST exit 0 after saying hello.")
def test_client_runs(client):
    run = client.run(port=9, timeout=5)
    expect(run.status == 0, expected="exit status 0", actual=f"exit status {run.status}")
"""


def test_client_that_cannot_be_started_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = -p wirecheck.plugin -p no:cacheprovider\n")
    pytester.makepyfile(test_client=RUNNING_CLIENT_SUITE)
    manifest(
        pytester.path / "impls" / "ghost",
        "ghost",
        "no-such-program-here {host} {port}",
        role="toy.client",
    )
    manifest(
        pytester.path / "impls" / "sad",
        "sad",
        "{python} -c 'raise SystemExit(4)'",
        role="toy.client",
    )
    res = pytester.runpytest("--impl", "impls")
    res.assert_outcomes(failed=2)
    got = results(pytester)
    ghost, sad = got["ghost:toy/6.1/1"], got["sad:toy/6.1/1"]
    assert (
        ghost["verdict"] == "error" and "could not start 'no-such-program-here'" in ghost["actual"]
    )
    assert sad["verdict"] == "fail" and sad["actual"] == "exit status 4"
    assert "-c 'raise SystemExit(4)'" in sad["reproduce"]


TLS_SERVER = """
import socket, ssl, sys
host, port, certfile, keyfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(certfile, keyfile)
s = socket.create_server((host, port))
while True:
    c, _ = s.accept()
    try:
        with ctx.wrap_socket(c, server_side=True) as t:
            t.sendall(b"Simple is better than complex.\\n")
            t.unwrap()
    except (ssl.SSLError, OSError):
        pass
"""

TLS_SUITE = """
import ssl
import pytest
from wirecheck import MUST, case, expect

pytestmark = pytest.mark.role("toytls.server")

@pytest.fixture(scope="module")
def role_placeholders(pki):
    return pki.placeholders()

@case("toytls/1.1/1", MUST, "The server MUST greet a verifying client over TLS.")
def test_greeting(server, pki):
    ctx = ssl.create_default_context(cafile=str(pki.cafile))
    with server.connect() as conn:
        conn.start_tls(ctx, server_hostname="localhost")
        line = conn.recv_until(b"\\n", limit=100)
        expect(line == b"Simple is better than complex.\\n", expected="the line", actual=repr(line))

@case("toytls/1.2/1", MUST, "A server with a certificate for another name MUST fail verification.")
def test_wrong_host_is_refused(launch_server, pki):
    other = launch_server(**pki.placeholders("wrong-host"))
    ctx = ssl.create_default_context(cafile=str(pki.cafile))
    with other.connect() as conn:
        try:
            conn.start_tls(ctx, server_hostname="localhost")
        except ssl.SSLCertVerificationError as exc:
            expect("Hostname mismatch" in str(exc), expected="a mismatch", actual=str(exc))
        else:
            expect(False, expected="a refused handshake", actual="it verified")
"""


def test_tls_connection_and_per_case_servers(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\naddopts = -p wirecheck.plugin -p fixtures.certs -p no:cacheprovider\n"
    )
    pytester.makepyfile(test_toytls=TLS_SUITE)
    folder = pytester.path / "impls" / "tls"
    folder.mkdir(parents=True)
    (folder / "tls_server.py").write_text(TLS_SERVER)
    (folder / "impl.toml").write_text(
        'name = "tls"\n[toytls.server]\n'
        'command = "{python} tls_server.py {host} {port} {certfile} {keyfile}"\n'
    )
    res = pytester.runpytest("--impl", "impls/tls")
    res.assert_outcomes(passed=2)
    got = results(pytester)
    assert got["tls:toytls/1.1/1"]["verdict"] == "pass"
    assert got["tls:toytls/1.2/1"]["verdict"] == "pass"
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    transcripts = " ".join(r["transcript"] for r in data["results"])
    assert "TLS handshake (client side): TLSv1.3" in transcripts
    assert "TLS handshake (client side) failed" in transcripts


def test_a_role_may_name_a_module_instead_of_a_command(tmp_path: Path) -> None:
    from wirecheck.manifest import load_manifest

    (tmp_path / "impl.toml").write_text(
        'name = "app"\n[wsgi.app]\nmodule = "timeapp:app"\n[wsgi.server]\ncommand = "x {port}"\n'
    )
    impl = load_manifest(tmp_path / "impl.toml")
    assert impl.roles["wsgi.app"].options["module"] == "timeapp:app"
    assert impl.provides("wsgi.app") and impl.roles["wsgi.server"].command == "x {port}"
    with pytest.raises(ImplementationError, match="gives no command"):
        impl.roles["wsgi.app"].argv({})


ENV_SERVER = """
import os, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_server((host, port))
while True:
    c, _ = s.accept()
    c.recv(1000)
    body = os.environ.get("TOY_NOTE", "unset").encode()
    c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
    c.close()
"""

HOSTED_SUITE = """
import pathlib, sys
import pytest
from wirecheck import MUST, case, expect

pytestmark = pytest.mark.role("toy.server", view="http")

@pytest.fixture(scope="module")
def role_environment():
    return {"TOY_NOTE": "{workdir}/note"}

@case("toy/7.1/1", MUST, "The server MUST see the suite's environment, filled per start.")
def test_environment_reaches_the_server(server):
    with server.connect() as conn:
        conn.send(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        data = conn.recv_until_eof(limit=1000)
    expect(data.endswith(f"{server.workdir}/note".encode()), expected="the note", actual=data)
"""

HOSTED_CLIENT_SUITE = """
import sys
import pytest
from wirecheck import MUST, case, expect

pytestmark = pytest.mark.role("toy.app")

@case("toy/8.1/1", MUST, "A role given as a module MUST be hostable by the suite's program.")
def test_hosted(client):
    code = "import os, sys; print(sys.argv[1], os.getcwd(), os.environ['TOY_NOTE'])"
    run = client.run(program=["{python}", "-c", code, client.options["module"]], timeout=10)
    expect(run.text.startswith("m:app "), expected="the module", actual=run.text)
    expect(run.text.rstrip().endswith("/note"), expected="the environment", actual=run.text)

@pytest.fixture(scope="module")
def role_environment():
    return {"TOY_NOTE": "{workdir}/note"}
"""


def test_environment_workdir_hosted_programs_and_http_view(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = -p wirecheck.plugin -p no:cacheprovider\n")
    pytester.makepyfile(test_env=HOSTED_SUITE, test_hosted=HOSTED_CLIENT_SUITE)
    folder = pytester.path / "impls" / "env"
    folder.mkdir(parents=True)
    (folder / "server.py").write_text(ENV_SERVER)
    (folder / "impl.toml").write_text(
        'name = "env"\n[toy.server]\ncommand = "{python} server.py {host} {port}"\n'
        '[toy.app]\nmodule = "m:app"\n'
    )
    res = pytester.runpytest("--impl", "impls/env")
    res.assert_outcomes(passed=2)
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    by_case = {r["case"]: r for r in data["results"]}
    transcript = by_case["toy/7.1/1"]["transcript"]
    assert "| HTTP/1.1 200 OK" in transcript and "| [body: " in transcript


PARAMETRISED_SUITE = """
import pytest
from wirecheck import MUST, case

pytestmark = pytest.mark.role("toy.server")

@case("toy/9.1/1", MUST, "The server MUST be there.")
def test_first(server):
    pass

@case("toy/9.1/2", MUST, "The server MUST be there, whatever the variant.")
@pytest.mark.parametrize("variant", ["a", "b"])
def test_variants(server, variant):
    pass
"""


def test_cases_of_one_implementation_run_together(toy: pytest.Pytester) -> None:
    toy.makepyfile(test_toy=PARAMETRISED_SUITE)
    manifest(toy.path / "impls" / "other", "other", "{python} echo.py {host} {port}")
    res = toy.runpytest("--impl", "impls", "--co", "-q")
    ids = [line for line in res.outlines if "::" in line]
    impls = [line.split("[", 1)[1].split("-")[0].rstrip("]") for line in ids]
    assert len(ids) == 6
    assert impls == sorted(impls, key=impls.index), ids  # each implementation in one block
