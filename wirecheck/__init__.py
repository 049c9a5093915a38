"""wirecheck: a pytest-driven conformance harness for network protocols."""

from wirecheck.fakes import FakeTcpServer, FakeUdpServer
from wirecheck.record import CaseRecord
from wirecheck.roles import ClientRun, ClientRunner, ServerHandle
from wirecheck.spec import case
from wirecheck.timeouts import Timeouts
from wirecheck.transcript import Transcript
from wirecheck.verdicts import (
    MAY,
    MUST,
    SHOULD,
    ConformanceFailure,
    ImplementationError,
    Level,
    Unimplemented,
    Verdict,
    expect,
    unimplemented,
)
from wirecheck.wire import TcpConnection, UdpEndpoint, describe

__all__ = [
    "MAY",
    "MUST",
    "SHOULD",
    "CaseRecord",
    "ClientRun",
    "ClientRunner",
    "ConformanceFailure",
    "FakeTcpServer",
    "FakeUdpServer",
    "ImplementationError",
    "Level",
    "ServerHandle",
    "TcpConnection",
    "Timeouts",
    "Transcript",
    "UdpEndpoint",
    "Unimplemented",
    "Verdict",
    "case",
    "describe",
    "expect",
    "unimplemented",
]
