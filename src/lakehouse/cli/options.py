"""Options several command groups share, with one name, default and help text each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakehouse.platform.registry import ENVS

DEFAULT_STORAGE = Path(".lakehouse")  # the same folder for every command, the demo's included
Storage = Annotated[
    Path,
    typer.Option(
        "--storage", metavar="DIR", help="Folder that holds tables, checkpoints and the event log."
    ),
]


def _bundle_root(root: Path) -> Path:
    if not (root / "databricks.yml").is_file():
        raise typer.BadParameter(f"no databricks.yml in {root.resolve()}: name the bundle's root folder")  # fmt: skip
    return root


BundleRoot = Annotated[
    Path,
    typer.Option(
        "--root", help="The bundle's root folder (holding databricks.yml).", callback=_bundle_root
    ),
]


def _env(env: str) -> str:
    if env not in ENVS:
        raise typer.BadParameter(
            f"{env!r} is not an environment; expected one of {', '.join(ENVS)}"
        )
    return env


Env = Annotated[
    str,
    typer.Option("--env", help="The environment: its catalogs are <env>_<layer>.", callback=_env),
]


Landing = Annotated[
    Path | None,
    typer.Option("--landing", help="The landing root; <storage>/landing when omitted."),
]


def landing_folder(landing: Path | None, storage: Path) -> Path:
    """The landing root ``--landing`` names, or the storage folder's own, when it exists."""
    return existing_folder(landing or storage / "landing", "--landing")


def existing_folder(folder: Path, option: str) -> Path:
    """``folder`` when it exists, else a usage error naming ``option``."""
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder}: no such folder", param_hint=option)
    return folder
