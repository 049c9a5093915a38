"""Hostile zen server: correct, but listens on the port after the one it was given."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve

MAX_PORT = 65535


def main() -> None:
    args = parse_args(__doc__ or "")
    port = args.port + 1 if args.port < MAX_PORT else args.port - 1
    serve(args.host, port)


if __name__ == "__main__":
    main()
