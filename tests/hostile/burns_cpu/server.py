"""Hostile zen server: correct, but spins a busy loop in a background thread."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve

BURN_SECONDS = 300.0


def burn() -> None:
    deadline = time.monotonic() + BURN_SECONDS
    spins = 0
    while time.monotonic() < deadline:
        spins += 1


def main() -> None:
    args = parse_args(__doc__ or "")
    threading.Thread(target=burn, daemon=True).start()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
