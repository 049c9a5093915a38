"""Run nginx as a tls.server: write the configuration of tls PROFILE §1.5 into the work folder,
then replace this process with nginx in the foreground (it stops on SIGTERM).

Debian: packages nginx (or nginx-light) and libnginx-mod-stream.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
STREAM_MODULES = (
    "/usr/lib/nginx/modules/ngx_stream_module.so",
    "/usr/lib64/nginx/modules/ngx_stream_module.so",
    "/usr/share/nginx/modules/ngx_stream_module.so",
)
GREETING = "Simple is better than complex.\\n"  # nginx unescapes \n inside the quoted string

CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log stderr notice;
{load_module}
events {{
    worker_connections 256;
}}

stream {{
    server {{
        listen {listen} ssl;
        ssl_certificate         {certfile};    # the leaf, then the intermediate
        ssl_certificate_key     {keyfile};
        ssl_protocols           TLSv1.2 TLSv1.3;
        ssl_ciphers             ECDHE+AESGCM:ECDHE+CHACHA20;
        ssl_prefer_server_ciphers on;
        ssl_handshake_timeout   10s;
{client_auth}        return "{greeting}";
    }}
}}
"""


def stream_module() -> str:
    """The load_module line, unless the stream module is built in (or cannot be found)."""
    for path in STREAM_MODULES:
        if Path(path).exists():
            return f"load_module {path};"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description="nginx as a greeting server over TLS.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("certfile")
    parser.add_argument("keyfile")
    parser.add_argument("cafile", help="client-certificate authority; empty: none requested")
    parser.add_argument("workdir")
    args = parser.parse_args()
    nginx = shutil.which("nginx", path=SEARCH_PATH)
    if nginx is None:
        sys.exit("nginx_peer: nginx is not installed")
    listen = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    client_auth = (
        f"        ssl_verify_client on;\n        ssl_client_certificate {args.cafile};\n"
        if args.cafile
        else ""
    )
    config = Path(args.workdir) / "nginx.conf"
    config.write_text(
        CONFIG.format(
            workdir=args.workdir,
            load_module=stream_module(),
            listen=listen,
            certfile=args.certfile,
            keyfile=args.keyfile,
            client_auth=client_auth,
            greeting=GREETING,
        )
    )
    os.execv(nginx, [nginx, "-e", "stderr", "-p", args.workdir, "-c", str(config)])


if __name__ == "__main__":
    main()
