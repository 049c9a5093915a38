"""Hostile zen server: reports a fatal error and exits with status 3 before listening."""

import argparse
import sys

EXIT_STATUS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.parse_args()
    print("fatal: cannot parse configuration", file=sys.stderr)
    sys.exit(EXIT_STATUS)


if __name__ == "__main__":
    main()
