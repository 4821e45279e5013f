"""Command-line options generated from a benchmark's Config dataclass (fields + their help).

The encode and index benchmarks keep every parameter, its default and its help in one
dataclass, so the JSON they write records exactly what the command line set.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

ConfigT = TypeVar("ConfigT")
SCALARS = {"int": int, "float": float, "str": str, "Path": Path}
"""Field annotations (as strings, under `from __future__ import annotations`) -> parsers."""


def parse_config(
    config: type[ConfigT],
    description: str,
    argv: list[str] | None = None,
    *,
    choices: dict[str, Sequence[str]] | None = None,
) -> ConfigT:
    """Parse `--field-name` options into `config`: bools get --x/--no-x, tuples take 1+ values."""
    parser = argparse.ArgumentParser(description=description)
    tuples = []
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        option = "--" + f.name.replace("_", "-")
        extra: dict[str, Any] = {"default": f.default, "help": f.metadata.get("help")}
        if f.type == "bool":
            parser.add_argument(option, action=argparse.BooleanOptionalAction, **extra)
        elif str(f.type).startswith("tuple["):
            tuples.append(f.name)
            extra["default"] = list(f.default)
            parser.add_argument(option, nargs="+", choices=(choices or {}).get(f.name), **extra)
        else:
            parser.add_argument(option, type=SCALARS[str(f.type)], **extra)
    args = vars(parser.parse_args(argv))
    for name in tuples:
        args[name] = tuple(args[name])
    return config(**args)
