"""What the benchmark scripts share: paths, machine facts, the CPU meter, JSON output and
click options built from a Config dataclass.

Scripts run as `python benchmarks/NAME.py`, so this folder is on sys.path and they import it
as `_common`. Light to import (standard library and click only): `--help` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

ConfigT = TypeVar("ConfigT")


# --- the machine ---------------------------------------------------------------------------


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what `platform` knows, else "unknown"."""
    for line in _cpuinfo():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cpu_flags(wanted: Iterable[str]) -> list[str]:
    """Which of the `wanted` CPU extensions (avx2, avx512_vnni, amx_bf16, ...) this CPU has."""
    flags: list[str] = next(
        (line.split(":", 1)[1].split() for line in _cpuinfo() if line.startswith("flags")), []
    )
    return [flag for flag in wanted if flag in flags]


def memory_gib() -> float:
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: the machine is shared."""
    return list(os.getloadavg())


def package_versions(*names: str) -> dict[str, str | None]:
    """Installed version of each distribution; None where it is not installed."""
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine_info(*, cpu_key: str | None = "cpu_model", **extra: Any) -> dict[str, Any]:
    """The CPU model under `cpu_key` (None: left out), core count and Python, then `extra`.

    Each script passes what decides its figures (SIMD flags, library versions, load average)
    under the keys its results files have always used.
    """
    info: dict[str, Any] = {cpu_key: cpu_model()} if cpu_key else {}
    info.update(cores=os.cpu_count(), python=platform.python_version())
    return {**info, **extra}


# --- contention on a shared machine --------------------------------------------------------


class CpuMeter:
    """Share of the machine's CPU time used by *other* processes since creation.

    The machine is shared; with 2 cores and spinning OpenMP threads, another busy process can
    halve our throughput, so every timing carries this contamination figure.
    """

    def __init__(self) -> None:
        self.start = (time.perf_counter(), _busy_cpu_seconds(), time.process_time())

    def others_share(self) -> float | None:
        wall, busy, own = self.start
        wall = time.perf_counter() - wall
        total = _busy_cpu_seconds()
        if total is None or busy is None or wall <= 0:
            return None
        others = (total - busy) - (time.process_time() - own)
        return round(max(0.0, others) / (wall * (os.cpu_count() or 1)), 3)


def _busy_cpu_seconds() -> float | None:
    """Non-idle CPU seconds of all processes since boot, from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = sum(ticks[:8]) - idle  # guest time is already inside user
    return busy / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_seconds: int, *, threshold: float = 0.1, window: float = 5.0) -> float:
    """Wait until other processes use < `threshold` of the CPU over `window` s; seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < max_seconds:
        meter = CpuMeter()
        time.sleep(window)
        share = meter.others_share()
        if share is None or share < threshold:
            break
        print(f"waiting: other processes use {share:.0%} of the CPU", flush=True)
    return round(max(0.0, time.perf_counter() - started - window), 1)


# --- running jobmatch and writing results --------------------------------------------------


def offline_env() -> dict[str, str]:
    """This process's environment for `jobmatch` subprocesses: no hub access, quiet tokenizers."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def jobmatch_command(*args: str) -> list[str]:
    """`python -m jobmatch ARGS...` with this interpreter."""
    return [sys.executable, "-m", "jobmatch", *args]


def write_json(data: dict[str, Any], path: Path | str) -> Path:
    """Write `data` as indented JSON; through a temporary file, so a killed run leaves the
    previous file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    tmp.replace(path)
    return path


def config_dict(config: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A Config dataclass as JSON-ready parameters (paths as strings), less `exclude`."""
    left_out = set(exclude)
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in dataclasses.asdict(config).items()
        if key not in left_out
    }


# --- command-line options from a Config dataclass ------------------------------------------


def script_help(doc: str) -> str:
    """A script's docstring as click help: paragraphs with indented lines (usage examples)
    or list items keep their line breaks instead of being rewrapped."""
    paragraphs = doc.strip().split("\n\n")
    keep = [
        "\b\n" + p if any(line.startswith(("    ", "- ")) for line in p.splitlines()) else p
        for p in paragraphs
    ]
    return "\n\n".join(keep)


class _Command(click.Command):
    """A click command whose multi-value options also take several values after one flag
    (`--factories Flat HNSW32`, as argparse's nargs="+"), besides repeating the flag."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        multiple = {
            name
            for param in self.params
            if isinstance(param, click.Option) and param.multiple
            for name in param.opts
        }
        spread: list[str] = []
        flag = None
        for i, arg in enumerate(args):
            if arg == "--":
                spread += args[i:]
                break
            if arg.startswith("-") and len(arg) > 1:
                flag = arg.split("=", 1)[0]
                flag = flag if flag in multiple else None
                spread.append(arg)
            elif flag and spread[-1] != flag:
                spread += [flag, arg]  # a further value of the last multi-value option
            else:
                spread.append(arg)
        return super().parse_args(ctx, spread)


def _unwrap(annotation: Any) -> tuple[Any, Any]:
    """(value type, container) of a field annotation: `tuple[str, ...]` -> (str, tuple),
    `Path | None` -> (Path, None), `int` -> (int, None)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    container = typing.get_origin(annotation)
    if container in (tuple, list):
        return typing.get_args(annotation)[0], container
    return annotation, None


def _option(field: dataclasses.Field, annotation: Any) -> click.Option:
    """`--field-name` for one field: its default, its metadata's "help" and, if given, its
    metadata's click "type"; bools are --x/--no-x, tuples and lists take several values."""
    name = "--" + field.name.replace("_", "-")
    if field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    else:
        default = None if field.default is dataclasses.MISSING else field.default
    kind, container = _unwrap(annotation)
    if container:
        default = tuple(default)
    extra: dict[str, Any] = {
        "default": default,
        "help": field.metadata.get("help"),
        "show_default": default not in (None, ""),
    }
    if kind is bool and not container:
        return click.Option([f"{name}/--no-{name[2:]}", field.name], **extra)
    click_type = field.metadata.get("type") or (
        click.Path(path_type=Path) if kind is Path else kind
    )
    return click.Option([name, field.name], type=click_type, multiple=bool(container), **extra)


def config_command(
    config: type[ConfigT], **command: Any
) -> Callable[[Callable[[ConfigT], Any]], click.Command]:
    """Decorator: a click command with one option per field of the `config` dataclass, whose
    callback receives the filled-in config (field defaults and help are the options')."""
    hints = typing.get_type_hints(config)
    fields = dataclasses.fields(config)  # type: ignore[arg-type]
    lists = [f.name for f in fields if _unwrap(hints[f.name])[1] is list]

    def decorate(function: Callable[[ConfigT], Any]) -> click.Command:
        def callback(**values: Any) -> Any:
            values.update({name: list(values[name]) for name in lists})
            try:
                built = config(**values)
            except ValueError as exc:  # a Config's own checks (__post_init__)
                raise click.UsageError(str(exc)) from exc
            return function(built)

        command.setdefault("name", function.__name__)
        params = [_option(f, hints[f.name]) for f in fields]
        return _Command(callback=callback, params=params, **command)

    return decorate


def parse_config(config: type[ConfigT], argv: list[str]) -> ConfigT:
    """The `config` a command line would give (for tests and callers that run `main` later)."""
    command = config_command(config)(lambda built: built)
    return command.main(argv, standalone_mode=False)
