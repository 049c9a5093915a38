"""Run nginx as an http.server: write the configuration of http PROFILE §1.5 into the work
folder, then replace this process with nginx in the foreground (it stops on SIGTERM).

Debian: package nginx (or nginx-light).
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import sys
from pathlib import Path

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
MIME_TYPES = ("/etc/nginx/mime.types", "/usr/local/etc/nginx/mime.types")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
{user}pid {workdir}/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 512;
}}

http {{
    access_log off;
    server_tokens off;
{temp_paths}
{mime_types}    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30s;

    server {{
        listen {listen};
        server_name _;
        root {docroot};
        # A stock nginx omits Allow on 405 (RFC 9110 §15.5.6 requires it).
        add_header Allow "GET, HEAD" always;
        location / {{
            try_files $uri =404;
        }}
    }}
}}
"""


def user_line() -> str:
    """Workers of a master started as root run as the current user, who can read the docroot."""
    if os.geteuid() != 0:
        return ""
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return f"user {user} {group};\n"


def mime_types() -> str:
    for path in MIME_TYPES:
        if Path(path).exists():
            return f"    include {path};\n"
    return "    types { text/html html; text/plain txt; application/octet-stream bin; }\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="nginx as a static file server.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("docroot")
    parser.add_argument("workdir")
    args = parser.parse_args()
    nginx = shutil.which("nginx", path=SEARCH_PATH)
    if nginx is None:
        sys.exit("nginx_peer: nginx is not installed")
    workdir = Path(args.workdir).resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    temp_paths = []
    for name in TEMP_PATHS:
        (workdir / "temp" / name).mkdir(parents=True, exist_ok=True)
        temp_paths.append(f"    {name}_temp_path {workdir / 'temp' / name};")
    listen = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    config = workdir / "nginx.conf"
    config.write_text(
        CONFIG.format(
            user=user_line(),
            workdir=workdir,
            temp_paths="\n".join(temp_paths),
            mime_types=mime_types(),
            listen=listen,
            docroot=Path(args.docroot).resolve(),
        )
    )
    os.execv(nginx, [nginx, "-e", "stderr", "-p", f"{workdir}/", "-c", str(config)])


if __name__ == "__main__":
    main()
