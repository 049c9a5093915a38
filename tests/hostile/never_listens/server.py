"""Hostile zen server: never opens a socket, so it never becomes ready."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args

SLEEP = 300.0  # seconds before giving up


def main() -> None:
    parse_args(__doc__ or "")
    time.sleep(SLEEP)


if __name__ == "__main__":
    main()
