"""Which targets a change touches, from what each target is built from and what it ships:
the workflows validate, plan and deploy only those.

- Every target is built from ``databricks.yml``, ``resources/``, the lock file and the Python
  the bundle's resource build imports (``resources/__init__.py`` and its import closure).
- A domain's targets ship ``domains/<domain>/`` and the code its pipelines run: the
  generated ingestion pipeline (when the domain has contracts) and the domain's pipeline
  files, each with its import closure within the repository.
- The platform's targets ship its jobs (grants, sandpit cleanup, shares: the modules of their
  wheel entry points, as ``pyproject.toml`` names them) and their import closure; their
  foundation (schemas, volumes) is built from ``domains/platform.yml``, every domain's registry
  entry and contracts, and the sandpits; the share job applies every domain's shares.

The import closure follows ``import`` statements at any depth of a module (a function's
imports run when it is called), but not those only for type checkers, and it follows a
package's lazy exports (``lazy_exports``) for the names imported from it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the same parser, from PyPI
    import tomli as tomllib

from lakehouse.bundle.resources import (
    INGESTION_PIPELINE_FILE,
    MONITORING_ENTRY_POINT,
    PLATFORM_ENTRY_POINTS,
    SCORING_ENTRY_POINT,
)
from lakehouse.governance.sandpits import SANDPITS
from lakehouse.governance.shares import SHARES
from lakehouse.platform.registry import PLATFORM, PLATFORM_FILE, REGISTRY_FILE, find_domain_specs

BUILD_INPUTS = ("databricks.yml", "resources/", "pyproject.toml", "uv.lock")
BUILD_ENTRY = "resources/__init__.py"
# Where the repository's importable code lives: src/ (lakehouse) and the root (resources,
# domains), as the bundle's build and the deployed pipelines see it.
IMPORT_ROOTS = ("src", ".")


def changed_domains(root: Path, files: Iterable[str]) -> list[str]:
    """The domains (``platform`` included) whose targets ``files`` touch, by name.

    Example:
        >>> changed_domains(Path("."), ["domains/sales/pipelines/gold.py", "README.md"])  # doctest: +SKIP
        ['sales']
    """
    shipped = shipped_files(root)
    touched = {name for file in files for name, ships in shipped.items() if _matches(file, ships)}
    return sorted(touched)


def shipped_files(root: Path) -> dict[str, list[str]]:
    """Per domain (``platform`` included): the files and folders (ending in ``/``) that its
    targets are built from or ship.

    Example:
        >>> "src/lakehouse/engine/errors.py" in shipped_files(Path("."))["sales"]  # doctest: +SKIP
        True
    """
    build = [*BUILD_INPUTS, *import_closure(root, [BUILD_ENTRY])]
    specs = find_domain_specs(root)
    shipped = {
        PLATFORM: [
            *build,
            PLATFORM_FILE,
            *(f"domains/{spec.parent.name}/{REGISTRY_FILE}" for spec in specs),
            *(
                f"domains/{spec.parent.name}/{folder}/"
                for spec in specs
                for folder in ("contracts", SHARES)
            ),
            f"{SANDPITS}/",
            *import_closure(
                root, [f for e in PLATFORM_ENTRY_POINTS for f in _entry_point_files(root, e)]
            ),
        ]
    }
    for spec in specs:
        folder = spec.parent
        entries = [str(f.relative_to(root)) for f in sorted((folder / "pipelines").rglob("*.py"))]
        if (folder / "contracts").is_dir():
            entries.append(INGESTION_PIPELINE_FILE)
        jobs = [MONITORING_ENTRY_POINT] + ([SCORING_ENTRY_POINT] if (folder / "models").is_dir() else [])  # fmt: skip
        entries += [f for e in jobs for f in _entry_point_files(root, e)]
        shipped[folder.name] = [*build, f"domains/{folder.name}/", *import_closure(root, entries)]
    return shipped


def _entry_point_files(root: Path, script: str) -> list[str]:
    """The files that running the wheel's entry point ``script`` imports first."""
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    return _module_files(root, scripts[script].partition(":")[0])


def _matches(file: str, shipped: list[str]) -> bool:
    return any(file == s or (s.endswith("/") and file.startswith(s)) for s in shipped)


def import_closure(root: Path, entries: list[str]) -> list[str]:
    """``entries`` (files relative to ``root``) and every repository module they import,
    directly or not, as paths relative to ``root``.

    Example:
        >>> import_closure(Path("."), ["src/lakehouse/ingestion/transformations/source_system.py"])[:2]  # doctest: +SKIP
        ['src/lakehouse/ingestion/transformations/source_system.py', 'src/lakehouse/ingestion/__init__.py']
    """
    seen: dict[str, None] = {}
    pending = [root / entry for entry in entries]
    while pending:
        file = pending.pop()
        relative = file.relative_to(root).as_posix()
        if relative in seen or not file.is_file():
            continue
        seen[relative] = None
        pending += [root / found for found in _imported_files(root, relative)]
    return list(seen)


@cache
def _imported_files(root: Path, relative: str) -> tuple[str, ...]:
    file = root / relative
    package = _module_name(root, file)
    is_package = file.name == "__init__.py"
    found: list[str] = []
    for node in _runtime_nodes(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += _module_files(root, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(package, is_package, node.module, node.level)
            if base is None:
                continue
            found += _module_files(root, base)
            lazy = _lazy_exports(root, base)
            for alias in node.names:
                found += _module_files(root, f"{base}.{alias.name}", own_only=True)
                if alias.name in lazy:
                    found += _module_files(root, lazy[alias.name])
    return tuple(found)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending += node.orelse
            continue
        nodes.append(node)
        pending += list(ast.iter_child_nodes(node))
    return nodes


def _module_files(root: Path, module: str, *, own_only: bool = False) -> list[str]:
    """The files that importing ``module`` runs: each package ``__init__`` on the way, and
    the module itself; none for a module outside the repository. ``own_only``: the module's
    own file only (a name imported from a package may be a module)."""
    parts = module.split(".")
    for base in IMPORT_ROOTS:
        folder = root / base
        if not (folder / parts[0]).exists() and not (folder / f"{parts[0]}.py").exists():
            continue
        files = []
        for depth in range(1, len(parts) + 1):
            path = folder.joinpath(*parts[:depth])
            last = depth == len(parts)
            if (path / "__init__.py").is_file() and (last or not own_only):
                files.append(path / "__init__.py")
            elif last and path.with_suffix(".py").is_file():
                files.append(path.with_suffix(".py"))
        return [f.relative_to(root).as_posix() for f in files]
    return []


@cache
def _lazy_exports(root: Path, package: str) -> dict[str, str]:
    """The names a package loads on first use: the ``lazy_exports(__name__, {...})`` mapping
    of its ``__init__``."""
    files = [f for f in _module_files(root, package) if f.endswith("__init__.py")]
    if not files or not files[-1].endswith(package.replace(".", "/") + "/__init__.py"):
        return {}
    tree = ast.parse((root / files[-1]).read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "lazy_exports"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Dict)
        ):
            return {
                key.value: value.value
                for key, value in zip(node.args[1].keys, node.args[1].values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant)
            }
    return {}


def _module_name(root: Path, file: Path) -> str:
    src, path = (root / "src").resolve(), file.resolve()
    relative = path.relative_to(src if path.is_relative_to(src) else root.resolve())
    parts = list(relative.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(package: str, is_package: bool, module: str | None, level: int) -> str | None:
    """The absolute name of ``from <level dots><module> import ...`` in ``package``."""
    if level == 0:
        return module
    parts = package.split(".") if is_package else package.split(".")[:-1]
    parts = parts[: len(parts) - level + 1]
    return ".".join([*parts, module] if module else parts) or None


def files_changed_since(root: Path, base: str) -> list[str]:
    """The files changed between ``base`` and the working tree (committed or not)."""
    merge_base = subprocess.run(
        ["git", "merge-base", base, "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    listed = subprocess.run(
        ["git", "diff", "--name-only", merge_base], cwd=root, capture_output=True, text=True, check=True
    ).stdout  # fmt: skip
    return [line for line in listed.splitlines() if line]
