"""A stand-in Databricks workspace on 127.0.0.1, for running the real Databricks CLI offline.

``databricks bundle validate`` and ``bundle plan`` talk to the workspace each target names: who
the current user is, whether the bundle's folders exist, who may write them, what was deployed
before. Only the CLI knows its own path and permission rules, so the bundle is checked with the
real CLI, and this module answers its calls.

The targets keep their literal hosts: the CLI reaches them through an HTTPS proxy on
127.0.0.1 (``HTTPS_PROXY``), which answers for every host with a certificate from a throwaway
certificate authority (``SSL_CERT_FILE``). Nothing of the user's is changed, and nothing leaves
the machine. Each host is its own workspace, with the folders and permissions a new
Databricks workspace has: ``/Workspace/Shared`` writable by all users, and a home folder per
principal that only its owner (and the admins) may manage. The bearer token names the
principal making the calls, so a target can be checked as the identity that deploys it.

Example:
    >>> with OfflineWorkspace() as workspace:  # doctest: +SKIP
    ...     subprocess.run(["databricks", "bundle", "validate"], env=workspace.cli_env("me@example.com"))
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

ADMINS = "admins"
USERS = "users"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


@dataclass
class WorkspaceObject:
    """A folder or file of the workspace file system, with its own access control entries."""

    path: str
    object_id: int
    object_type: str = "DIRECTORY"
    content: bytes = b""
    acl: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> level


class Workspace:
    """One workspace's state: its file system, and the calls made to it."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.objects: dict[str, WorkspaceObject] = {}
        self.calls: list[str] = []
        self.unanswered: list[str] = []  # calls this stand-in does not know: a gap to close
        self._ids = count(1000)
        self._lock = threading.Lock()
        self.mkdirs("/Workspace/Shared", acl={("group_name", USERS): "CAN_MANAGE"})
        self.mkdirs("/Workspace/Users")

    def mkdirs(self, path: str, acl: dict[tuple[str, str], str] | None = None) -> WorkspaceObject:
        path = _normal(path)
        with self._lock:
            parts = path.strip("/").split("/")
            for depth in range(len(parts) + 1):
                prefix = "/" + "/".join(parts[:depth])
                if prefix not in self.objects:
                    self.objects[prefix] = WorkspaceObject(prefix, next(self._ids))
            found = self.objects[path]
            if acl:
                found.acl.update(acl)
            return found

    def home(self, principal: str) -> WorkspaceObject:
        """A principal's home folder, created on first use as Databricks does at first login."""
        kind = "service_principal_name" if UUID.match(principal) else "user_name"
        return self.mkdirs(f"/Workspace/Users/{principal}", acl={(kind, principal): "CAN_MANAGE"})

    def get(self, path: str) -> WorkspaceObject | None:
        return self.objects.get(_normal(path))

    def by_id(self, object_id: str) -> WorkspaceObject | None:
        return next((o for o in self.objects.values() if str(o.object_id) == object_id), None)

    def effective_acl(self, target: WorkspaceObject) -> list[dict[str, Any]]:
        """The access control list as the permissions API reports it: the object's own entries
        and those inherited from its parents, the admins group always with CAN_MANAGE."""
        entries: dict[tuple[str, str], list[dict[str, Any]]] = {
            ("group_name", ADMINS): [{"permission_level": "CAN_MANAGE", "inherited": True}]
        }
        path = target.path
        while True:
            found = self.objects.get(path)
            if found is not None:
                for principal, level in found.acl.items():
                    entries.setdefault(principal, []).append(
                        {"permission_level": level, "inherited": found is not target}
                    )
            if path == "/":
                break
            path = path.rsplit("/", 1)[0] or "/"
        return [
            {principal[0]: principal[1], "all_permissions": levels}
            for principal, levels in entries.items()
        ]


class OfflineWorkspace:
    """A proxy on 127.0.0.1 that answers the Databricks CLI for any workspace host.

    Example:
        >>> with OfflineWorkspace() as workspace:  # doctest: +SKIP
        ...     env = workspace.cli_env("developer@example.com")
    """

    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self._ca = trustme.CA(organization_name="lakehouse offline workspace")
        self._folder = tempfile.TemporaryDirectory(prefix="lakehouse-offline-workspace-")
        self.ca_file = Path(self._folder.name) / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self._certificates: dict[str, ssl.SSLContext] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()  # several CLI processes call at once

    def workspace(self, host: str) -> Workspace:
        """The stand-in for ``host``, made on its first call."""
        host = host.split(":")[0].lower()
        with self._lock:
            if host not in self.workspaces:
                self.workspaces[host] = Workspace(host)
            return self.workspaces[host]

    def tls_for(self, host: str) -> ssl.SSLContext:
        """A server context with a certificate for ``host`` from the throwaway authority."""
        with self._lock:
            if host not in self._certificates:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                self._ca.issue_cert(host).configure_cert(context)
                self._certificates[host] = context
            return self._certificates[host]

    def __enter__(self) -> OfflineWorkspace:
        handler = type("Handler", (_ProxyHandler,), {"offline": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._folder.cleanup()

    @property
    def proxy(self) -> str:
        assert self._server is not None, "use OfflineWorkspace as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def cli_env(self, principal: str) -> dict[str, str]:
        """The environment under which the CLI talks to this stand-in as ``principal``: the
        proxy, the certificate authority, and a token naming the principal. No configuration
        profile or cache of the user's is read or written."""
        config = Path(self._folder.name) / "databrickscfg"
        config.touch()
        return {
            "DATABRICKS_CACHE_DIR": str(Path(self._folder.name) / "cache"),
            "HTTPS_PROXY": self.proxy,
            "https_proxy": self.proxy,
            "NO_PROXY": "",
            "no_proxy": "",
            "SSL_CERT_FILE": str(self.ca_file),
            "DATABRICKS_TOKEN": principal,
            "DATABRICKS_AUTH_TYPE": "pat",
            "DATABRICKS_CONFIG_FILE": str(config),
        }


class _ProxyHandler(BaseHTTPRequestHandler):
    offline: OfflineWorkspace
    protocol_version = "HTTP/1.1"
    host = ""

    def log_message(self, format: str, *args: Any) -> None:  # the CLI's output stays clean
        pass

    def do_CONNECT(self) -> None:
        self.host = self.path.split(":")[0]
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            self.connection = self.offline.tls_for(self.host).wrap_socket(
                self.connection, server_side=True
            )
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = socket.SocketIO(self.connection, "wb")  # type: ignore[assignment]
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def do_GET(self) -> None:
        self._api("GET")

    def do_POST(self) -> None:
        self._api("POST")

    def do_PUT(self) -> None:
        self._api("PUT")

    def do_PATCH(self) -> None:
        self._api("PATCH")

    def do_DELETE(self) -> None:
        self._api("DELETE")

    def _api(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        workspace = self.offline.workspace(self.host or self.headers.get("Host", ""))
        workspace.calls.append(f"{method} {url.path}")
        principal = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        status, payload = _answer(workspace, principal, method, url.path, parse_qs(url.query), body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _answer(
    workspace: Workspace,
    principal: str,
    method: str,
    path: str,
    query: dict[str, list[str]],
    body: bytes,
) -> tuple[int, Any]:
    """The workspace API's answer to one call: status and JSON body."""
    if path == "/.well-known/databricks-config":
        return 200, _host_metadata(workspace.host)
    if not principal:
        return 401, {"error_code": "UNAUTHENTICATED", "message": "Credential was not sent."}
    workspace.home(principal)
    arguments = json.loads(body) if body.startswith(b"{") else {}
    if path == "/api/2.0/preview/scim/v2/Me":
        return 200, _me(principal)
    if path == "/api/2.0/workspace/get-status":
        found = workspace.get(query.get("path", [""])[0])
        if found is None:
            return _missing(query.get("path", [""])[0])
        return 200, _object_info(found)
    if path == "/api/2.0/workspace/mkdirs" and method == "POST":
        workspace.mkdirs(arguments["path"])
        return 200, {}
    if path.startswith("/api/2.0/permissions/directories/"):
        found = workspace.by_id(path.rsplit("/", 1)[1])
        if found is None:
            return _missing(path)
        return 200, {
            "object_id": f"/directories/{found.object_id}",
            "object_type": "directory",
            "access_control_list": workspace.effective_acl(found),
        }
    workspace.unanswered.append(f"{method} {path}")
    return 404, {
        "error_code": "ENDPOINT_NOT_FOUND",
        "message": f"No API found for '{method} {path}'",
    }


def _missing(path: str) -> tuple[int, dict[str, str]]:
    return 404, {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": f"Path ({path}) doesn't exist.",
    }


def _object_info(found: WorkspaceObject) -> dict[str, Any]:
    return {"path": found.path, "object_type": found.object_type, "object_id": found.object_id}


def _host_metadata(host: str) -> dict[str, Any]:
    workspace_id = re.search(r"adb-(\d+)", host)
    return {
        "oidc_endpoint": f"https://{host}/oidc",
        "host_type": "workspace",
        **({"workspace_id": workspace_id.group(1)} if workspace_id else {}),
    }


def _me(principal: str) -> dict[str, Any]:
    service_principal = bool(UUID.match(principal))
    return {
        "id": str(abs(hash(principal)) % 10**15),
        "userName": principal,
        "displayName": "Deployment service principal" if service_principal else principal,
        "active": True,
        "groups": [{"display": USERS}],
        "emails": [] if service_principal else [{"value": principal, "primary": True}],
    }


def _normal(path: str) -> str:
    path = "/" + path.strip("/")
    return path
