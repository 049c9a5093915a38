"""Hostile zen server: correct, but waits 3 s before listening."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve

START_DELAY = 3.0  # seconds


def main() -> None:
    args = parse_args(__doc__ or "")
    time.sleep(START_DELAY)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
