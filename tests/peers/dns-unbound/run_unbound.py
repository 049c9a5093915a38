"""Run Unbound as a dns.server: write its configuration into the work folder, then replace this
process with Unbound in the foreground (``-d``); it stops on SIGTERM.

Unbound is a resolver; it serves the zone from the zone file as an auth-zone answered to its
own clients (``for-downstream``) and never used for its own lookups (``for-upstream: no``).
Names outside the zone are refused (no recursion: nothing leaves the machine).

Debian: package unbound.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
ZONE = "example.test."

CONFIG = """\
server:
    interface: {host}@{port}
    port: {port}
    do-ip4: yes
    do-ip6: yes
    do-udp: yes
    do-tcp: yes
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    # profile §2.8: answers up to 1232 octets over UDP with EDNS
    edns-buffer-size: 1232
    max-udp-size: 1232
    hide-identity: yes
    hide-version: yes
    # no recursion: names outside the zone are refused (profile §2.9)
    local-zone: "." refuse
    local-zone: "{zone}" transparent
    module-config: "iterator"
    trust-anchor-signaling: no
    root-key-sentinel: no

auth-zone:
    name: "{zone}"
    zonefile: "{zonefile}"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no

remote-control:
    control-enable: no
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Unbound serving a zone as an auth-zone.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("zonefile")
    parser.add_argument("workdir")
    args = parser.parse_args()
    unbound = shutil.which("unbound", path=SEARCH_PATH)
    if unbound is None:
        sys.exit("run_unbound: unbound is not installed (Debian: apt-get install unbound)")
    config = Path(args.workdir) / "unbound.conf"
    config.write_text(
        CONFIG.format(
            host=args.host,
            port=args.port,
            workdir=args.workdir,
            zone=ZONE,
            zonefile=str(Path(args.zonefile).resolve()),
        )
    )
    os.execv(unbound, [unbound, "-d", "-c", str(config)])


if __name__ == "__main__":
    main()
