"""A stand-in for a workspace's Unity Catalog REST API on 127.0.0.1: the platform's jobs talk
to it through the real databricks-sdk, and it records every call they make.

It keeps schemas (per catalog, with their properties), tables, the files of volumes, and the
grants changed on each securable, answers the calls the jobs make, and fails the paths a test names, as a workspace
would (HTTP status and Databricks' error body).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMAS = "/api/2.1/unity-catalog/schemas"
TABLES = "/api/2.1/unity-catalog/tables"
PERMISSIONS = "/api/2.1/unity-catalog/permissions/"
RECIPIENTS = "/api/2.1/unity-catalog/recipients"
SHARES = "/api/2.1/unity-catalog/shares"
DIRECTORIES = "/api/2.0/fs/directories"  # the Files API's listing of a volume's folders


@dataclass(frozen=True)
class Call:
    """One request the API received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeWorkspaceApi:
    """Start with ``with FakeWorkspaceApi() as api``; ``api.client()`` is a databricks-sdk
    ``WorkspaceClient`` pointed at it."""

    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name -> SchemaInfo
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name -> TableInfo
    grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # full name -> changes
    recipients: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> RecipientInfo
    shares: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> ShareInfo
    share_grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # name -> changes
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # /Volumes/... -> (ms, bytes)
    failing: dict[tuple[str, str], int] = field(default_factory=dict)  # (method, path) -> status
    calls: list[Call] = field(default_factory=list)

    def add_schema(self, catalog: str, name: str, properties: dict[str, str] | None = None) -> None:
        self.schemas[f"{catalog}.{name}"] = {
            "catalog_name": catalog,
            "name": name,
            "full_name": f"{catalog}.{name}",
            **({"properties": properties} if properties else {}),
        }

    def add_table(
        self, full_name: str, properties: dict[str, str], table_type: str = "MANAGED"
    ) -> None:
        catalog, schema, name = full_name.split(".")
        if f"{catalog}.{schema}" not in self.schemas:
            self.add_schema(catalog, schema)
        self.tables[full_name] = {
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "full_name": full_name,
            "properties": properties,
            "table_type": table_type,
        }

    def add_file(self, path: str, modified_ms: int, size: int = 1) -> None:
        """A file in a volume (``/Volumes/<catalog>/<schema>/<volume>/...``)."""
        self.files[path] = (modified_ms, size)

    def client(self) -> Any:
        from databricks.sdk import WorkspaceClient

        return WorkspaceClient(host=self.host, token="not-a-real-token")

    def __enter__(self) -> FakeWorkspaceApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                call = Call(
                    self.command,
                    unquote(url.path),
                    {k: v[0] for k, v in parse_qs(url.query).items()},
                    json.loads(raw) if raw else None,
                )
                status, body = api._route(call)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def api_calls(self, method: str | None = None) -> list[Call]:
        """The calls to the API (not the client's configuration look-ups), of ``method``."""
        return [
            c for c in self.calls
            if c.path.startswith("/api/") and (method is None or c.method == method)
        ]  # fmt: skip

    def _route(self, call: Call) -> tuple[int, Any]:
        self.calls.append(call)
        status = self.failing.get((call.method, call.path))
        if status is not None:
            return status, {"error_code": "PERMISSION_DENIED", "message": f"denied: {call.path}"}
        if call.method == "GET" and call.path == SCHEMAS:
            catalog = call.query.get("catalog_name")
            return 200, {"schemas": [s for s in self.schemas.values() if s["catalog_name"] == catalog]}  # fmt: skip
        if call.method == "GET" and call.path == TABLES:
            wanted = (call.query.get("catalog_name"), call.query.get("schema_name"))
            found = [t for t in self.tables.values() if (t["catalog_name"], t["schema_name"]) == wanted]  # fmt: skip
            return 200, {"tables": found}
        if call.method == "DELETE" and call.path.startswith(f"{SCHEMAS}/"):
            name = call.path.removeprefix(f"{SCHEMAS}/")
            if self.schemas.pop(name, None) is None:
                return 404, {"error_code": "SCHEMA_DOES_NOT_EXIST", "message": f"no {name}"}
            return 200, {}
        if call.method == "PATCH" and call.path.startswith(PERMISSIONS):
            name = call.path.removeprefix(PERMISSIONS).partition("/")[2]
            self.grants.setdefault(name, []).extend(call.body["changes"])
            return 200, {"privilege_assignments": []}
        if call.method == "GET" and call.path.startswith(f"{DIRECTORIES}/"):
            return self._directory(call.path.removeprefix(DIRECTORIES).rstrip("/"))
        if call.path.startswith(RECIPIENTS):
            return self._recipients(call)
        if call.path.startswith(SHARES):
            return self._shares(call)
        if call.path == "/.well-known/databricks-config":
            return 404, {"error_code": "NOT_FOUND", "message": "no such endpoint"}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"{call.method} {call.path}"}

    def _directory(self, folder: str) -> tuple[int, Any]:
        """A folder's entries, as the Files API lists them: files, and the folders below."""
        below = {p.removeprefix(f"{folder}/"): at for p, at in self.files.items() if p.startswith(f"{folder}/")}  # fmt: skip
        if not below:
            return 404, {"error_code": "NOT_FOUND", "message": f"The directory {folder} does not exist"}  # fmt: skip
        entries: dict[str, dict[str, Any]] = {}
        for relative, (modified, size) in below.items():
            first, _, rest = relative.partition("/")
            path = f"{folder}/{first}"
            if rest:
                entries[path] = {"path": f"{path}/", "name": first, "is_directory": True}
            else:
                entries[path] = {"path": path, "name": first, "is_directory": False, "file_size": size, "last_modified": modified}  # fmt: skip
        return 200, {"contents": sorted(entries.values(), key=lambda e: e["path"])}

    def _recipients(self, call: Call) -> tuple[int, Any]:
        name = call.path.removeprefix(RECIPIENTS).strip("/")
        if call.method == "POST" and not name:
            self.recipients[call.body["name"]] = dict(call.body)
            return 200, call.body
        if call.method == "GET" and name in self.recipients:
            return 200, self.recipients[name]
        return 404, {"error_code": "RECIPIENT_DOES_NOT_EXIST", "message": f"no recipient {name}"}

    def _shares(self, call: Call) -> tuple[int, Any]:
        rest = call.path.removeprefix(SHARES).strip("/")
        name, _, sub = rest.partition("/")
        if call.method == "POST" and not name:
            self.shares[call.body["name"]] = {**call.body, "objects": []}
            return 200, self.shares[call.body["name"]]
        share = self.shares.get(name)
        if share is None:
            return 404, {"error_code": "SHARE_DOES_NOT_EXIST", "message": f"no share {name}"}
        if call.method == "GET" and not sub:
            return 200, share
        if call.method == "PATCH" and sub == "permissions":
            self.share_grants.setdefault(name, []).extend(call.body["changes"])
            return 200, {}
        if call.method == "PATCH" and not sub:
            for update in call.body.get("updates", []):
                held = [o for o in share["objects"] if o["name"] != update["data_object"]["name"]]
                share["objects"] = held + ([update["data_object"]] if update["action"] == "ADD" else [])  # fmt: skip
            return 200, share
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"{call.method} {call.path}"}
