"""``dbutils.secrets`` for a local run: a secret comes from the environment or from a local
secrets file, never from a workspace.

Where a secret ``scope``/``key`` is looked up, first match wins:

1. the environment variable ``LAKEHOUSE_SECRET_<SCOPE>_<KEY>`` (upper case, every character
   that is not a letter or digit as ``_``): what CI sets from its own secret store;
2. the TOML file named by ``LAKEHOUSE_SECRETS_FILE``, else ``~/.lakehouse/secrets.toml``: a
   table per scope, a string per key (keep it out of version control).

A value read is registered with ``observability/redaction.py``, so it reads ``[REDACTED]`` in
messages, the event log and log files, as Databricks shows it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import tomllib

from lakehouse.engine.errors import ConfigurationError
from lakehouse.engine.observability.redaction import redact

SECRETS_FILE_VARIABLE = "LAKEHOUSE_SECRETS_FILE"
DEFAULT_SECRETS_FILE = Path("~/.lakehouse/secrets.toml")


def secret_variable(scope: str, key: str) -> str:
    """The environment variable that holds ``scope``/``key``.

    Example:
        >>> secret_variable("sales-jdbc", "password")
        'LAKEHOUSE_SECRET_SALES_JDBC_PASSWORD'
    """
    return "LAKEHOUSE_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", f"{scope}_{key}").upper()


@dataclass(frozen=True)
class SecretMetadata:
    key: str


@dataclass(frozen=True)
class SecretScope:
    name: str


class LocalSecrets:
    """``dbutils.secrets``: ``get``, ``getBytes``, ``list`` and ``listScopes``.

    Example:
        >>> LocalSecrets().get("sales-jdbc", "password")  # doctest: +SKIP
    """

    def get(self, scope: str, key: str) -> str:
        value = os.environ.get(secret_variable(scope, key))
        if value is None:
            value = self._file().get(scope, {}).get(key)
        if not isinstance(value, str):
            raise ConfigurationError(
                f"secret '{key}' of scope '{scope}' is not set: export "
                f"{secret_variable(scope, key)}, or add it to {self._path()} as "
                f'[{scope}] {key} = "..."'
            )
        redact(value)
        return value

    def getBytes(self, scope: str, key: str) -> bytes:
        return self.get(scope, key).encode()

    def list(self, scope: str) -> list[SecretMetadata]:
        prefix = secret_variable(scope, "")
        keys = set(self._file().get(scope, {}))
        keys |= {v[len(prefix) :].lower() for v in os.environ if v.startswith(prefix)}
        return [SecretMetadata(k) for k in sorted(keys)]

    def listScopes(self) -> list[SecretScope]:
        return [SecretScope(s) for s in sorted(self._file())]

    def _path(self) -> Path:
        return Path(os.environ.get(SECRETS_FILE_VARIABLE) or DEFAULT_SECRETS_FILE).expanduser()

    def _file(self) -> dict[str, dict[str, object]]:
        path = self._path()
        if not path.is_file():
            return {}
        try:
            scopes = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as error:  # its message quotes no value
            raise ConfigurationError(f"{path}: not valid TOML: {error}") from None
        return {str(s): keys for s, keys in scopes.items() if isinstance(keys, dict)}
