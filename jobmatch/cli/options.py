"""Shared pieces of the `jobmatch` CLI modules: error display, common options, status lines."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click

from jobmatch.errors import JobmatchError

TABLE_TYPES = click.Path(exists=False, dir_okay=False, allow_dash=True)
INPUT_FILE = click.Path(dir_okay=False, allow_dash=True)


class UserError(click.ClickException):
    """A JobmatchError shown as one line `error: ...` with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class JobmatchGroup(click.Group):
    """Turns domain errors raised by any sub-command into UserError."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JobmatchError as exc:
            raise UserError(str(exc)) from exc
        except ModuleNotFoundError as exc:
            if exc.name != "faiss":
                raise
            raise UserError(
                "faiss is not installed: pip install 'jobmatch[cpu]' (or jobmatch[gpu], see README)"
            ) from exc


def status(message: str) -> None:
    click.echo(message, err=True)


def model_option(help_text: str = "sentence-transformers model id or folder."):
    return click.option(
        "--model",
        "model",
        envvar="JOBMATCH_MODEL",
        default=None,
        metavar="MODEL",
        help=f"{help_text} Default: the bundled all-MiniLM-L6-v2 (offline). Env: JOBMATCH_MODEL.",
    )


def progress_option():
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Show progress bars (default: when stderr is a terminal).",
    )


def encoding_option():
    """`--encoding` of the CSV and JSONL tables and .txt/.md documents a command reads; an
    unknown codec is a usage error (exit 2) before any file is read."""

    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        from jobmatch.io.readers import check_encoding

        try:
            check_encoding(value)
        except JobmatchError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
        return value

    return click.option(
        "--encoding",
        default="utf-8",
        show_default=True,
        metavar="CODEC",
        callback=check,
        help="Text encoding of CSV and JSONL input tables and .txt/.md documents, e.g. cp949 "
        "or euc-kr for legacy Korean exports (Parquet, PDF, DOCX and HTML carry their own; a "
        "UTF-8 byte-order mark is dropped).",
    )


def wait_option():
    return click.option(
        "--wait/--no-wait",
        default=True,
        help="If another writer holds the index lock: wait (default) or fail at once.",
    )


def waiting() -> None:
    status("another writer holds the index lock; waiting for it to finish...")


def show_progress(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


def backend_options():
    """`--backend` and `--quantize`; None means the index's own (where there is one) or torch."""
    from jobmatch.backends.spec import BACKEND_ENV, BACKENDS, QUANTIZATIONS, QUANTIZE_ENV

    backend = click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        envvar=BACKEND_ENV,
        default=None,
        help="Encoding runtime: torch, onnx (ONNX Runtime) or openvino; the first use exports "
        "the model and caches it. Default: the index's backend, else torch. "
        f"Env: {BACKEND_ENV}.",
    )
    quantize = click.option(
        "--quantize",
        type=click.Choice(QUANTIZATIONS),
        envvar=QUANTIZE_ENV,
        default=None,
        help="Reduced precision: int8 (onnx, openvino) or bf16 (torch, openvino). Default: the "
        f"index's, else none. Env: {QUANTIZE_ENV}.",
    )
    return lambda command: backend(quantize(command))


def resolve_backend(
    backend: str | None, quantize: str | None, manifest: Any = None
) -> tuple[str, str]:
    """Fill unset options from the index manifest (if any), else torch/none; check the pair."""
    from jobmatch.backends.spec import check_backend

    backend = backend or getattr(manifest, "backend", None) or "torch"
    quantize = quantize or getattr(manifest, "quantize", None) or "none"
    try:
        check_backend(backend, quantize)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    return backend, quantize


def warn_if_incompatible(manifest: Any, encoder: Any) -> None:
    """One stderr line when the encoder's backend/quantisation differs from the index's."""
    from jobmatch.backends.spec import compatibility

    note = compatibility(manifest.backend, manifest.quantize, encoder.backend, encoder.quantize)
    if note:
        status(f"warning: {note}")


def config_field(config: type, name: str) -> dataclasses.Field:
    """The dataclass field `name` of a training config."""
    return next(f for f in dataclasses.fields(config) if f.name == name)


def config_option(config: type, name: str, *decls: str, **kwargs: Any):
    """A click option for a config field, with the field's default and help.

    The flag is the field name in kebab case unless `decls` are given; a bool field becomes
    an `is_flag` option.
    """
    spec = config_field(config, name)
    flags = decls or ("--" + name.replace("_", "-"),)
    if spec.type in (bool, "bool") and not decls:
        kwargs.setdefault("is_flag", True)
    else:
        kwargs.setdefault("show_default", spec.default is not None)
    return click.option(
        *flags, name, default=spec.default, help=spec.metadata.get("help"), **kwargs
    )


def mode_option(configs: dict[str, type], name: str, **kwargs: Any):
    """An option whose default depends on --mode: None here, then the mode's config default
    (each listed in the help)."""
    fields = {mode: config_field(config, name) for mode, config in configs.items()}
    shown = {
        mode: "model's own" if f.default is None else f"{f.default:g}" for mode, f in fields.items()
    }
    defaults = ", ".join(f"{value} {mode}" for mode, value in shown.items())
    first = next(iter(fields.values()))
    return click.option(
        "--" + name.replace("_", "-"),
        default=None,
        help=f"{first.metadata['help']}  [default: {defaults}]",
        **kwargs,
    )
