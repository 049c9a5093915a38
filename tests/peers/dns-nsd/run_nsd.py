"""Run NSD as a dns.server: write its configuration into the work folder, then replace this
process with NSD in the foreground (``-d``); it stops on SIGTERM.

Debian: package nsd.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
ZONE = "example.test"

CONFIG = """\
server:
    ip-address: {host}@{port}
    port: {port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{workdir}"
    database: ""
    pidfile: "{workdir}/nsd.pid"
    xfrdfile: "{workdir}/xfrd.state"
    xfrdir: "{workdir}"
    zonelistfile: "{workdir}/zone.list"
    verbosity: 1
    hide-version: yes
    # profile §2.8: answers up to 1232 octets over UDP with EDNS
    ipv4-edns-size: 1232
    ipv6-edns-size: 1232

remote-control:
    control-enable: no

zone:
    name: "{zone}"
    zonefile: "{zonefile}"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="NSD as the authoritative server of a zone.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("zonefile")
    parser.add_argument("workdir")
    args = parser.parse_args()
    nsd = shutil.which("nsd", path=SEARCH_PATH)
    if nsd is None:
        sys.exit("run_nsd: nsd is not installed (Debian: apt-get install nsd)")
    config = Path(args.workdir) / "nsd.conf"
    config.write_text(
        CONFIG.format(
            host=args.host,
            port=args.port,
            workdir=args.workdir,
            zone=ZONE,
            zonefile=str(Path(args.zonefile).resolve()),
        )
    )
    os.execv(nsd, [nsd, "-d", "-c", str(config)])


if __name__ == "__main__":
    main()
