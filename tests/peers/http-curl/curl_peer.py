"""curl as an http.client, run as http PROFILE §3.12 says: the flags of that section, and
`--data-raw {data}` only when `{data}` is non-empty (curl would POST an empty body otherwise)."""

from __future__ import annotations

import argparse
import os

FLAGS = [
    "-sS",
    "--fail",
    "--fail-early",
    "--location",
    "--max-redirs",
    "50",
    "--compressed",
    "--cookie",
    "",
]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run curl as an http.client (PROFILE §3.12).")
    parser.add_argument("urls", nargs="+", metavar="url")
    parser.add_argument("--data", default="", help="form data to POST to the first URL")
    parser.add_argument("--cafile", required=True, help="PEM file of the authority to trust")
    args = parser.parse_args()
    argv = ["curl", *FLAGS, "--cacert", args.cafile]
    if args.data:
        argv += ["--data-raw", args.data]
    os.execvp("curl", argv + args.urls)


if __name__ == "__main__":
    main()
