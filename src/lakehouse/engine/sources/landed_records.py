"""The records of one landed file, as Auto Loader reads them: decompressed as its extension
says, decoded, and split into JSON lines or CSV rows of name -> text.

This runs inside the Spark job, on each file's bytes, so that a bad file or a bad record
becomes a record saying what is wrong instead of failing the update: nothing here raises.
Besides the source's own fields, a record may carry these keys, which end in the rescued data
column (with ``_file_path``, which Auto Loader adds):

- ``_corrupt_record``: a line that is not a JSON object, as text;
- ``_undecodable_bytes``: a line that is not in the file's encoding, as base64 of its bytes;
- ``_file_error``: why the whole file could not be read (the file's only record);
- ``_repeated_keys``: the earlier values of a key given twice in one object, as JSON. The last
  value wins, as in Spark's JSON reader (which Databricks' Auto Loader uses).

A source field with one of these names, or ``_file_path``, is kept as ``source.<name>``.
"""

from __future__ import annotations

import base64
import bz2
import codecs
import csv
import io
import json
import re
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath

Record = dict[str, str | None]

CORRUPT_RECORD = "_corrupt_record"
UNDECODABLE_BYTES = "_undecodable_bytes"
FILE_ERROR = "_file_error"
REPEATED_KEYS = "_repeated_keys"
FILE_PATH = "_file_path"
RESERVED = (CORRUPT_RECORD, UNDECODABLE_BYTES, FILE_ERROR, REPEATED_KEYS, FILE_PATH)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A CSV field may be as long as the file: Python's default limit would fail the file.
csv.field_size_limit(sys.maxsize)


def _zstd(data: bytes) -> bytes:
    import zstandard  # only when a .zst file lands

    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
        return reader.read()


def _gzip(data: bytes) -> bytes:
    # Concatenated members are one stream, as gzip(1) and Hadoop read them.
    decompressor = zlib.decompressobj(wbits=31)
    out = [decompressor.decompress(data)]
    while decompressor.eof and decompressor.unused_data:
        rest = decompressor.unused_data
        decompressor = zlib.decompressobj(wbits=31)
        out.append(decompressor.decompress(rest))
    if not decompressor.eof:
        raise EOFError("the gzip stream ends before its end marker (a truncated file?)")
    return b"".join(out)


# The codecs Spark picks by file extension (Hadoop's CompressionCodecFactory).
_CODECS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": _gzip,
    ".bz2": bz2.decompress,
    ".deflate": zlib.decompress,
    ".zst": _zstd,
}
_UNSUPPORTED_CODECS = (".lz4", ".snappy")
# Compressed or archived content under a name that does not say so.
_MAGIC = {
    b"\x1f\x8b": ".gz",
    b"PK\x03\x04": ".zip",
    b"PK\x05\x06": ".zip",
    b"\x28\xb5\x2f\xfd": ".zst",
}
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")


def is_hidden(relative_path: str | PurePosixPath) -> bool:
    """Whether Auto Loader skips the file: a name, or a folder on its way, that starts with
    ``_`` or ``.`` (Spark's and Databricks' file listing rule).

    Example:
        >>> is_hidden("2026/03/_tmp/orders.json"), is_hidden("2026/03/orders.json")
        (True, False)
    """
    return any(part.startswith(("_", ".")) for part in PurePosixPath(relative_path).parts)


def file_records(
    path: str,
    content: bytes,
    file_format: str,
    options: Mapping[str, str] | None = None,
    csv_columns: Sequence[str] = (),
) -> list[Record]:
    """The records of the landed file at ``path`` with bytes ``content``; ``options`` are the
    reader's (lower-case keys: ``encoding``, ``header``, ``sep``, ``quote``, ``escape``), and
    ``csv_columns`` name a CSV file's columns by position when it has no header.

    Example:
        >>> file_records("/landing/orders/1.json", b'{"id": 1, "id": 2}\\nnot json\\n', "json")
        [{'id': '2', '_repeated_keys': '{"id":["1"]}'}, {'_corrupt_record': 'not json'}]
    """
    options = options or {}
    try:
        data = _decompressed(path, content)
        lines = _decoded_lines(data, _encoding(options))
        if file_format == "csv":
            return _csv_records(lines, options, csv_columns)
        return [record for line in lines for record in _json_line_records(line)]
    except Exception as error:  # the file's only record says why it could not be read
        return [{FILE_ERROR: _describe(error)}]


def first_line(path: str, content: bytes, options: Mapping[str, str] | None = None) -> str | None:
    """The file's first line as text (a CSV header), or None when the file cannot be read.

    Example:
        >>> first_line("/landing/orders/1.csv", b"id,amount\\n1,9.5\\n")
        'id,amount'
    """
    options = options or {}
    try:
        lines = _decoded_lines(_decompressed(path, content), _encoding(options))
    except Exception:
        return None
    return lines[0] if lines and isinstance(lines[0], str) else None


def _encoding(options: Mapping[str, str]) -> str:
    return options.get("encoding") or options.get("charset") or "utf-8"


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, UnreadableFile) else f"{type(error).__name__}: {text}"


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


def _decompressed(path: str, content: bytes) -> bytes:
    name = PurePosixPath(path).name
    extension = PurePosixPath(name).suffix
    archive = None
    if extension == ".zip" or content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        archive = "zip"
    elif extension == ".tar" or content[257:262] == b"ustar":
        archive = "tar"
    if archive:
        raise UnreadableFile(
            f"{name} is a {archive} archive: Auto Loader does not unpack archives; land the "
            "files it holds instead"
        )
    if extension in _UNSUPPORTED_CODECS:
        raise UnreadableFile(
            f"{name}: {extension} (Hadoop block) compression is not read by the local engine; "
            "land it as .gz, .bz2, .zst or uncompressed"
        )
    codec = _CODECS.get(extension)
    if codec is not None:
        try:
            return codec(content)
        except Exception as error:
            raise UnreadableFile(
                f"{name} is not valid {extension} data ({type(error).__name__}: {error}): "
                "truncated, or not compressed as its name says"
            ) from None
    actual = next((ext for magic, ext in _MAGIC.items() if content.startswith(magic)), None)
    if actual is None and _BZIP2.match(content):
        actual = ".bz2"
    if actual is not None:
        raise UnreadableFile(
            f"{name} holds {actual} compressed data, but Spark chooses the compression by the "
            f"file's extension: land it as {name}{actual}"
        )
    return content


def _decoded_lines(data: bytes, encoding: str) -> list[str | bytes]:
    """The file's lines as text; a line that is not in ``encoding`` stays as bytes."""
    if data.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8":
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return list(_LINE_BREAK.split(data.decode(encoding)))
    except UnicodeDecodeError:
        if "\n".encode(encoding) != b"\n":  # a multi-byte encoding cannot be split by bytes
            raise UnreadableFile(f"the file is not valid {encoding}") from None
    lines: list[str | bytes] = []
    for raw in re.split(rb"\r\n|\r|\n", data):
        try:
            lines.append(raw.decode(encoding))
        except UnicodeDecodeError:
            lines.append(raw)
    return lines


def _undecodable(raw: bytes) -> Record:
    return {UNDECODABLE_BYTES: base64.b64encode(raw).decode("ascii")}


class _Number(str):
    """A JSON number as written (``12.340`` stays ``12.340``)."""


class _Object(list):
    """A JSON object as its (key, value) pairs, repeated keys included."""


def _json_line_records(line: str | bytes) -> list[Record]:
    if isinstance(line, bytes):
        return [_undecodable(line)] if line.strip() else []
    text = line.strip()
    if not text:
        return []
    try:
        value = json.loads(
            text,
            object_pairs_hook=_Object,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_Number,
        )
        # A line holding an array of objects is one record per object, as in Spark.
        objects = value if isinstance(value, list) and not isinstance(value, _Object) else [value]
        if objects and all(isinstance(o, _Object) for o in objects):
            return [_record([(k, _text(v)) for k, v in o]) for o in objects]
    except Exception:  # not JSON, or nested deeper than the parser goes
        pass
    return [{CORRUPT_RECORD: line}]


def _text(value: object) -> str | None:
    """A JSON value as the text Spark's ``from_json`` gives for a string-typed field."""
    if value is None:
        return None
    if isinstance(value, str):  # a string, or a number as written
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return _json(value)


def _json(value: object) -> str:
    if isinstance(value, _Object):
        pairs = (f"{json.dumps(k, ensure_ascii=False)}:{_json(v)}" for k, v in value)
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, _Number):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _record(pairs: Sequence[tuple[str, str | None]]) -> Record:
    record: Record = {}
    earlier: dict[str, list[str | None]] = {}
    for key, value in pairs:
        if key in RESERVED:
            key = f"source.{key}"
        if key in record:
            earlier.setdefault(key, []).append(record.pop(key))
        record[key] = value
    if earlier:
        record[REPEATED_KEYS] = json.dumps(earlier, ensure_ascii=False, separators=(",", ":"))
    return record


def _csv_records(
    lines: list[str | bytes], options: Mapping[str, str], columns: Sequence[str]
) -> list[Record]:
    """Rows by the header's names with ``header``, else by ``columns``, else ``_c0``, ``_c1``,
    ... Blank lines are skipped and empty fields are NULL, as in
    Spark's CSV reader; values beyond the header come as ``_c<position>``."""
    dialect = {
        "delimiter": options.get("sep", options.get("delimiter", ",")),
        "quotechar": options.get("quote", '"'),
        "escapechar": options.get("escape", "\\"),
    }
    undecodable = [_undecodable(line) for line in lines if isinstance(line, bytes)]
    text = "\n".join(line for line in lines if isinstance(line, str))
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), **dialect) if any(r)]
    header = options.get("header", "false").lower() == "true"
    names = rows.pop(0) if header and rows else list(columns)

    def name(position: int) -> str:
        return names[position] if position < len(names) else f"_c{position}"

    records = [_record([(name(i), value or None) for i, value in enumerate(row)]) for row in rows]
    return records + undecodable
