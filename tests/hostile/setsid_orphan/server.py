"""Hostile zen server: correct, but first double-forks a daemon that holds stdout/stderr open."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve

GRANDCHILD_SLEEP = 300.0  # seconds


def spawn_daemon() -> None:
    """Double fork: the grandchild lives in its own session, re-parented to init."""
    middle = os.fork()
    if middle == 0:
        os.setsid()  # new session and process group: out of reach of killpg
        if os.fork() == 0:
            time.sleep(GRANDCHILD_SLEEP)  # stdout and stderr stay open
        os._exit(0)
    os.waitpid(middle, 0)


def main() -> None:
    args = parse_args(__doc__ or "")
    spawn_daemon()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
