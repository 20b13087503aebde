"""Where the warm engine of this environment lives, and whether it is still current.

One server per Python environment (a checkout's ``.venv``): its state folder is named after
``sys.prefix``, so two checkouts never share a server. The state file records the server's
pid, socket and fingerprint; the fingerprint covers what a running driver cannot pick up
after it started: the installed distributions, the project's own files, and the Spark settings
(``LAKEHOUSE_SPARK_*``, driver memory, shuffle partitions, jars cache).

Example:
    >>> server = running_server()  # doctest: +SKIP
    >>> server.fresh if server else None  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import lakehouse
from lakehouse.engine.settings import SparkSettings

STATE_FILE = "engine.json"
SOCKET_FILE = "engine.sock"
_PROJECT_FILES = (".py", ".j2", ".properties", ".json")


def state_folder() -> Path:
    """This environment's warm-engine folder (``LAKEHOUSE_ENGINE_HOME`` overrides it)."""
    override = os.environ.get("LAKEHOUSE_ENGINE_HOME")
    if override:
        return Path(override)
    prefix = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"lakehouse-engine-{prefix}"


def fingerprint() -> str:
    """What a running driver was started with and cannot change: installed distributions,
    the project's files (path, size, modification time) and the Spark settings.

    Example:
        >>> len(fingerprint())
        64
    """
    digest = hashlib.sha256()
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join(dists).encode())
    package = Path(lakehouse.__file__).parent
    for file in sorted(package.rglob("*")):
        if file.suffix in _PROJECT_FILES:
            stat = file.stat()
            digest.update(f"{file.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())  # fmt: skip
    digest.update(repr(SparkSettings.from_environment()).encode())
    digest.update(sys.executable.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ServerState:
    """A started server, as its state file records it."""

    pid: int
    socket: str
    fingerprint: str
    started_at: float
    spark_version: str

    @property
    def alive(self) -> bool:
        """Whether the process still runs (it may still be starting)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # somebody else's process took the pid
            return False
        return True

    @property
    def fresh(self) -> bool:
        """Whether it was started from this environment as it is now."""
        return self.fingerprint == fingerprint()

    def save(self, folder: Path) -> None:
        private_folder(folder)
        temporary = folder / f"{STATE_FILE}.tmp"
        temporary.write_text(json.dumps(asdict(self)))
        temporary.replace(folder / STATE_FILE)  # readers never see half a file


def private_folder(folder: Path) -> Path:
    """``folder``, created if needed, readable by this user only: the socket there runs
    commands with the client's environment, credentials included."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def read_state(folder: Path | None = None) -> ServerState | None:
    """The recorded server, or None when none was started (or its file is unreadable)."""
    file = (folder or state_folder()) / STATE_FILE
    try:
        return ServerState(**json.loads(file.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def forget(folder: Path | None = None) -> None:
    """Remove a server's state file and socket (after it stopped or died)."""
    folder = folder or state_folder()
    for name in (STATE_FILE, SOCKET_FILE):
        (folder / name).unlink(missing_ok=True)
