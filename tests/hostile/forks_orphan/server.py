"""Hostile zen server: correct, but first forks a child that sleeps holding stdout/stderr open."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve

CHILD_SLEEP = 300.0  # seconds


def main() -> None:
    args = parse_args(__doc__ or "")
    # Forked before listening, so the child does not hold the listening socket;
    # it keeps the inherited stdout and stderr open, so no end-of-file comes.
    if os.fork() == 0:
        time.sleep(CHILD_SLEEP)
        os._exit(0)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
