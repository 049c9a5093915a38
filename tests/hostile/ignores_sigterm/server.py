"""Hostile zen server: correct, but ignores SIGTERM and SIGINT."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve


def main() -> None:
    args = parse_args(__doc__ or "")
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
