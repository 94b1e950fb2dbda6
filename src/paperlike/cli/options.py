"""Options shared by several commands.

Options that an environment variable can also set declare it (``envvar=``, shown in --help).
:class:`~paperlike.settings.Settings` stays the one reader of ``PAPERLIKE_*`` variables: a value
that came from the environment is handed on as "not given", so the library reads it there (and
``paperlike info`` can say the index came from ``$PAPERLIKE_INDEX_DIR``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from ..mode_registry import DEFAULT_MODE, MODES, modes_help
from ..model_registry import model_names_help
from ..settings import ENV_DEVICE, ENV_INDEX_DIR, ENV_MODEL
from .choices import RegistryChoice
from .output import json_option, output_options

__all__ = [
    "mode_option",
    "device_option",
    "engine_options",
    "index_dir_option",
    "json_option",
    "model_option",
    "output_options",
    "reading_options",
    "split_ids",
]

F = TypeVar("F", bound=Callable[..., Any])


class _RegistryHelpOption(click.Option):
    """An option whose help text is made from a registry when help is shown."""

    def __init__(self, *args: Any, help_from: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._help_from = help_from

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self._help_from()
        return super().get_help_record(ctx)


def mode_option(func: F) -> F:
    """``--mode``: the ranking modes of :mod:`paperlike.mode_registry`."""
    return click.option(
        "--mode",
        cls=_RegistryHelpOption,
        help_from=lambda: modes_help() + " The score column is on the mode's scale.",
        type=RegistryChoice(lambda: MODES),
        default=DEFAULT_MODE,
        show_default=True,
    )(func)


def _unless_from_env(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """None for a value taken from the environment: Settings reads it (see the module docstring)."""
    return None if param.name and ctx.get_parameter_source(param.name) == ParameterSource.ENVIRONMENT else value


index_dir_option = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar=ENV_INDEX_DIR,
    show_envvar=True,
    callback=_unless_from_env,
    help="Index directory (default: the user data folder; see 'paperlike info').",
)


model_option = click.option(
    "--model",
    default=None,
    envvar=ENV_MODEL,
    show_envvar=True,
    callback=_unless_from_env,
    cls=_RegistryHelpOption,  # the names at --help time: a model registered later is listed too
    help_from=lambda: f"Embedding model for a new index: {model_names_help()}; 'paperlike model list' says more.",
)


def split_ids(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    """``--ids a,b --ids c`` -> ``["a", "b", "c"]``."""
    return [i.strip() for group in value for i in group.split(",") if i.strip()]


def reading_options(func: F) -> F:
    """--format, --strict, --title-col and --abstract-col, shared by 'index build' and 'add'."""
    from ..readers.formats import FORMATS

    for option in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=RegistryChoice(lambda: FORMATS),
                default=None,
                help="Corpus format (default: detected from the extension and content).",
            ),
            click.option("--strict", is_flag=True, help="Fail on the first malformed entry (default: skip it with a note)."),
            click.option("--title-col", default=None, help="CSV/TSV: the title column (default: found by name)."),
            click.option("--abstract-col", default=None, help="CSV/TSV: the abstract column (default: found by name)."),
        ]
    ):
        func = option(func)
    return func


device_option = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default=None,
    envvar=ENV_DEVICE,
    show_envvar=True,
    callback=_unless_from_env,
    help="Where the model runs: auto (a GPU when PyTorch sees one), cpu or cuda (default: auto).",
)


def engine_options(func: F) -> F:
    """--engine, --ray-address, --workers and --device, shared by 'index build' and 'add'."""
    for option in reversed(
        [
            click.option(
                "--engine",
                type=click.Choice(["local", "ray"]),
                default="local",
                show_default=True,
                help="Embed on this machine, or on a Ray cluster (needs: pip install 'paperlike[ray]').",
            ),
            click.option(
                "--ray-address",
                default=None,
                metavar="HOST:PORT",
                help="With --engine ray: the cluster's head (default: $RAY_ADDRESS, else Ray started here).",
            ),
            click.option(
                "--workers",
                type=click.IntRange(min=1),
                default=None,
                help="With --engine ray: model replicas (default: one per GPU of the cluster, else one per CPU).",
            ),
            device_option,
        ]
    ):
        func = option(func)
    return func
