"""Implementation manifests: a ``name`` and one ``[<suite>.<role>]`` table per role provided.

    name = "alice"
    [zen.server]
    command = "{python} zen_server.py {host} -p {port}"

The command is split like a shell would (shlex), then each placeholder is filled inside its token,
so a filled value is never re-split. A token that is exactly a list-valued placeholder (such as
``{messages}``) becomes one argument per item. Relative paths are relative to the manifest's folder,
which is also the working directory of the command.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from wirecheck.verdicts import HarnessError, ImplementationError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
Value = str | int | Sequence[str]


@dataclasses.dataclass(frozen=True)
class Role:
    name: str  # "zen.server"
    command: str  # empty for a role given otherwise (a WSGI application's `module`)
    manifest_dir: Path
    options: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def argv(self, values: Mapping[str, Value]) -> list[str]:
        """The command line with every placeholder filled."""
        if not self.command:
            raise ImplementationError(f"{self.name}: the manifest gives no command to run")
        try:
            tokens = shlex.split(self.command)
        except ValueError as exc:
            raise ImplementationError(f"{self.name}: the command cannot be split: {exc}") from None
        argv: list[str] = []
        for token in tokens:
            whole = PLACEHOLDER.fullmatch(token)
            if whole and not isinstance(values.get(whole.group(1)), str | int | None):
                argv.extend(str(item) for item in values[whole.group(1)])  # type: ignore[union-attr]
                continue
            argv.append(PLACEHOLDER.sub(lambda m: _fill(m, values, self.name), token))
        return argv


def _fill(match: re.Match[str], values: Mapping[str, Value], role: str) -> str:
    key = match.group(1)
    if key not in values:
        known = ", ".join("{" + k + "}" for k in sorted(values))
        raise ImplementationError(
            f"{role}: the command uses {{{key}}}, which this role does not provide ({known})"
        )
    value = values[key]
    if not isinstance(value, str | int):
        raise ImplementationError(f"{role}: {{{key}}} is a list: give it a token of its own")
    return str(value)


@dataclasses.dataclass(frozen=True)
class Implementation:
    name: str
    roles: Mapping[str, Role]
    source: Path | None = None  # the manifest file
    description: str = ""
    # For --target: roles already running somewhere, "zen.server" -> (host, port).
    targets: Mapping[str, tuple[str, int]] = dataclasses.field(default_factory=dict)

    def provides(self, role: str) -> bool:
        return role in self.roles or role in self.targets


def load_manifest(path: Path) -> Implementation:
    path = path.resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"{path}: not a readable TOML manifest: {exc}") from None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise HarnessError(f'{path}: the manifest needs a name = "..."')
    roles: dict[str, Role] = {}
    for suite, table in data.items():
        if suite in ("name", "description"):
            continue
        if not isinstance(table, dict):
            raise HarnessError(f"{path}: {suite!r} is not a [<suite>.<role>] table")
        for role, spec in table.items():
            # A role is a command to run, or (an application the harness loads itself, such as
            # a WSGI callable) a `module = "package.module:callable"`.
            if not isinstance(spec, dict) or not (
                isinstance(spec.get("command"), str) or isinstance(spec.get("module"), str)
            ):
                raise HarnessError(
                    f'{path}: [{suite}.{role}] needs command = "..." (or module = "...")'
                )
            options = {k: v for k, v in spec.items() if isinstance(v, str)}
            roles[f"{suite}.{role}"] = Role(
                f"{suite}.{role}", spec.get("command", ""), path.parent, options
            )
    return Implementation(name.strip(), roles, path, str(data.get("description", "")))


def find_manifests(path: Path) -> list[Path]:
    """A manifest file, or every ``impl.toml`` below a folder (a class of submissions)."""
    if path.is_dir():
        found = sorted(path.rglob("impl.toml"))
        if not found:
            raise HarnessError(f"{path}: no */impl.toml below this folder")
        return found
    if not path.exists():
        raise HarnessError(f"{path}: no such manifest")
    return [path]


def load_implementations(paths: Sequence[Path]) -> list[Implementation]:
    impls: list[Implementation] = []
    seen: dict[str, Path | None] = {}
    for given in paths:
        for manifest in find_manifests(given):
            impl = load_manifest(manifest)
            if impl.name in seen:
                raise HarnessError(
                    f"two manifests are named {impl.name!r}: {seen[impl.name]} and {manifest}"
                )
            seen[impl.name] = impl.source
            impls.append(impl)
    return impls


def parse_target(text: str) -> tuple[str, str, int]:
    """``zen.server=HOST:PORT`` → (role, host, port)."""
    try:
        role, address = text.split("=", 1)
        host, port = address.rsplit(":", 1)
        return role.strip(), host.strip("[]"), int(port)
    except ValueError:
        raise HarnessError(
            f"--target {text!r}: expected ROLE=HOST:PORT, e.g. zen.server=127.0.0.1:1060"
        ) from None
