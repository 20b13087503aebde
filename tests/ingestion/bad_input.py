"""A corpus of files a source system really delivers into a landing folder, good and bad, each
with where its records must end: silver, silver's quarantine (and under which rule), or
nowhere because Auto Loader's name rule skips the file.

Written for the CRM orders contract (JSON, appended to silver). The cases are generated, so
each test lands a fresh copy of them."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import zstandard


def order(order_id: str, **values: object) -> dict[str, object]:
    return {"order_id": order_id, "customer_id": 1, "ordered_at": "2026-03-02T09:30:00",
            "amount": 10.5, "currency": "EUR", **values}  # fmt: skip


def lines(*records: dict[str, object]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _zip(name: str, content: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(name, content)
    return archive.getvalue()


@dataclass(frozen=True)
class LandedCase:
    """One landed file: ``silver`` order ids reach silver; ``quarantined`` names the rule each
    quarantined record broke first among the reader's rules (or none)."""

    category: str
    path: str
    content: bytes
    silver: tuple[str, ...] = ()
    quarantined: tuple[str, ...] = ()
    ignored: bool = False

    def land(self, folder: Path) -> Path:
        file = folder / self.path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(self.content)
        return file


LATIN1_LINE = json.dumps(order("o41", currency="EUR")).encode().replace(b'"EUR"', '"€UR"'.encode("cp1252"))  # fmt: skip

CORPUS = (
    LandedCase("plain file", "o1.json", lines(order("o1"), order("o2")), silver=("o1", "o2")),
    LandedCase("dated subfolder", "2026/03/02/o3.json", lines(order("o3")), silver=("o3",)),
    LandedCase("name starts with _", "_o4.json", lines(order("o4")), ignored=True),
    LandedCase("name starts with .", ".o5.json.crdownload", lines(order("o5")), ignored=True),
    LandedCase("folder starts with _", "_temporary/0/o6.json", lines(order("o6")), ignored=True),
    LandedCase("gzip", "o7.json.gz", gzip.compress(lines(order("o7"))), silver=("o7",)),
    LandedCase("zstd", "o8.json.zst", zstandard.compress(lines(order("o8"))), silver=("o8",)),
    LandedCase("empty file", "o9.json", b""),
    LandedCase(
        "byte order mark", "o10.json", b"\xef\xbb\xbf" + lines(order("o10")), silver=("o10",)
    ),
    LandedCase(
        "key repeated in one object",
        "o11.json",
        b'{"order_id": "o11", "customer_id": 1, "ordered_at": "2026-03-02T09:30:00", '
        b'"amount": 10.5, "currency": "USD", "currency": "EUR"}\n',
        silver=("o11",),
    ),
    LandedCase(
        "source field named like reader metadata",
        "o12.json",
        lines(order("o12", _file_path="/elsewhere/x.json", _corrupt_record="no")),
        silver=("o12",),
    ),
    LandedCase(
        "array of objects on one line",
        "o13.json",
        json.dumps([order("o13"), order("o14")]).encode(),
        silver=("o13", "o14"),
    ),
    LandedCase(
        "plain JSON named .json.gz",
        "o20.json.gz",
        lines(order("o20")),
        quarantined=("file_readable",),
    ),
    LandedCase(
        "truncated gzip",
        "o21.json.gz",
        gzip.compress(lines(*[order(f"o21-{i}") for i in range(50)]))[:-40],
        quarantined=("file_readable",),
    ),
    LandedCase(
        "gzip named .json",
        "o22.json",
        gzip.compress(lines(order("o22"))),
        quarantined=("file_readable",),
    ),
    LandedCase(
        "zip archive",
        "o23.zip",
        _zip("o23.json", lines(order("o23"))),
        quarantined=("file_readable",),
    ),
    LandedCase(
        "line cut short and a line that is not JSON",
        "o30.json",
        lines(order("o30")) + b'{"order_id": "o31", "amount": \nERROR 500\n',
        silver=("o30",),
        quarantined=("record_readable", "record_readable"),
    ),
    LandedCase(
        "timestamps at the ends of Spark's range, and beyond",
        "o60.json",
        lines(
            order("o60", ordered_at="0001-01-01T00:00:00"),
            order("o61", ordered_at="9999-12-31T23:59:59"),
            order("o62", ordered_at="10000-01-01T00:00:00"),
        ),
        silver=("o60", "o61"),
        quarantined=("ordered_at_is_timestamp",),
    ),
    LandedCase(
        "a decimal with more scale than the contract's",
        "o63.json",
        b'{"order_id": "o63", "customer_id": 1, "ordered_at": "2026-03-02T09:30:00", "amount": 12.345}\n'
        b'{"order_id": "o64", "customer_id": 1, "ordered_at": "2026-03-02T09:30:00", "amount": 12.340}\n',
        silver=("o64",),
        quarantined=("amount_is_decimal_12_2",),
    ),
    LandedCase(
        "a blank key",
        "o65.json",
        lines(order("  "), order("")),
        quarantined=("order_id_required", "order_id_required"),
    ),
    LandedCase(
        "a primary key landed twice in one file",
        "o70.json",
        lines(order("o70", amount=1), order("o70", amount=2)),
        silver=("o70",),
        quarantined=("duplicate_key",),
    ),
    LandedCase(
        "a primary key landed before, in another file",
        "o71.json",
        lines(order("o1", amount=99)),
        quarantined=("duplicate_key",),
    ),
    LandedCase(
        "line in another encoding",
        "o40.json",
        lines(order("o40")) + LATIN1_LINE + b"\n",
        silver=("o40",),
        quarantined=("record_readable",),
    ),
)
