"""How one landed file becomes records: decompression by extension, decoding, JSON lines and
CSV rows, and a record saying what is wrong for every line or file that cannot be read.

The fuzz at the end feeds random bytes, encodings and truncations: the reader never raises and
never returns nothing for a file that holds something."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import tarfile
import zipfile
import zlib

import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from lakehouse.engine.sources.landed_records import (
    CORRUPT_RECORD,
    FILE_ERROR,
    REPEATED_KEYS,
    UNDECODABLE_BYTES,
    file_records,
    first_line,
    is_hidden,
)

LINES = b'{"id": "1", "amount": 12.340}\n{"id": "2", "note": {"a": [1, true, null]}}\n'
RECORDS = [{"id": "1", "amount": "12.340"}, {"id": "2", "note": '{"a":[1,true,null]}'}]


def test_numbers_and_nested_values_arrive_as_the_text_that_was_landed():
    assert file_records("/l/1.json", LINES, "json") == RECORDS


def test_compression_follows_the_extension():
    compressed = {
        "1.json.gz": gzip.compress(LINES),
        "1.json.bz2": bz2.compress(LINES),
        "1.json.deflate": zlib.compress(LINES),
        "1.json.zst": zstandard.ZstdCompressor().compress(LINES),
        "1.json": LINES,
    }
    for name, content in compressed.items():
        assert file_records(f"/l/{name}", content, "json") == RECORDS, name


def test_concatenated_gzip_members_are_one_file():
    content = gzip.compress(LINES[:31]) + gzip.compress(LINES[31:])
    assert file_records("/l/1.json.gz", content, "json") == RECORDS


def _file_error(name: str, content: bytes) -> str:
    records = file_records(f"/landing/{name}", content, "json")
    assert len(records) == 1 and list(records[0]) == [FILE_ERROR], records
    return records[0][FILE_ERROR]


def test_a_truncated_or_mismatched_compressed_file_is_one_file_error():
    assert "truncated" in _file_error("cut.json.gz", gzip.compress(LINES)[:-6])
    assert "not valid .gz data" in _file_error("plain.json.gz", LINES)
    assert "not valid .bz2 data" in _file_error("plain.json.bz2", LINES)
    message = _file_error("packed.json", gzip.compress(LINES))
    assert "land it as packed.json.gz" in message


def test_an_archive_is_never_read_as_text():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inside.json", LINES)
    for name in ("orders.zip", "orders.json"):
        assert "zip archive" in _file_error(name, archive.getvalue())
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as t:
        member = tarfile.TarInfo("inside.json")
        member.size = len(LINES)
        t.addfile(member, io.BytesIO(LINES))
    assert "tar archive" in _file_error("orders.json", archive.getvalue())


def test_a_repeated_key_keeps_the_last_value_and_rescues_the_earlier_ones():
    # Spark's JSON reader, which Databricks' Auto Loader uses, keeps the last value too.
    records = file_records("/l/1.json", b'{"id": "1", "status": "new", "status": "paid"}', "json")
    assert records == [{"id": "1", "status": "paid", REPEATED_KEYS: '{"status":["new"]}'}]


def test_a_source_field_named_like_reader_metadata_is_kept_under_another_name():
    line = b'{"id": "1", "_file_path": "x", "_corrupt_record": "y"}'
    assert file_records("/l/1.json", line, "json") == [
        {"id": "1", "source._file_path": "x", "source._corrupt_record": "y"}
    ]


def test_lines_that_are_not_objects_or_not_in_the_encoding_are_kept_recoverably():
    latin1 = "Zoë".encode("latin-1")
    content = (
        b'{"id": "1"}\n[{"id": "2"}, {"id": "3"}]\nnot json\n42\n\n{"name": "' + latin1 + b'"}'
    )
    records = file_records("/l/1.json", content, "json")
    assert records[:5] == [
        {"id": "1"},
        {"id": "2"},
        {"id": "3"},
        {CORRUPT_RECORD: "not json"},
        {CORRUPT_RECORD: "42"},
    ]
    assert base64.b64decode(records[5][UNDECODABLE_BYTES]) == b'{"name": "' + latin1 + b'"}'


def test_a_declared_encoding_decodes_the_file():
    content = "id,name\n1,Zoë\n".encode("latin-1")
    records = file_records("/l/1.csv", content, "csv", {"header": "true", "encoding": "latin-1"})
    assert records == [{"id": "1", "name": "Zoë"}]
    assert first_line("/l/1.csv", content, {"encoding": "latin-1"}) == "id,name"


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name():
    content = "\ufeff".encode() + b"id,amount\r\n1,9.5\r\n"
    assert file_records("/l/1.csv", content, "csv", {"header": "true"}) == [
        {"id": "1", "amount": "9.5"}
    ]


def test_csv_rows_map_by_header_then_by_position_and_repeated_columns_are_rescued():
    content = b"id,amount,id\n1,9.5,2,extra\n\n"
    assert file_records("/l/1.csv", content, "csv", {"header": "true"}) == [
        {"amount": "9.5", "id": "2", "_c3": "extra", REPEATED_KEYS: '{"id":["1"]}'}
    ]
    assert file_records("/l/1.csv", b"1;NL\n", "csv", {"sep": ";"}, ["id", "country"]) == [
        {"id": "1", "country": "NL"}
    ]


def test_the_name_rule_skips_hidden_files_and_folders():
    assert is_hidden("_SUCCESS") and is_hidden(".part.json") and is_hidden("2026/_tmp/x.json")
    assert not is_hidden("2026/03/02/x.json")


def _holds_something(content: bytes) -> bool:
    return bool(content.strip())


@settings(max_examples=300, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(lambda t: t.encode("utf-8")),
        st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=5)), max_size=4).map(
            lambda rows: "\n".join(json.dumps(r) for r in rows).encode()
        ),
    ),
    name=st.sampled_from(["x.json", "x.csv", "x.json.gz", "x.csv.bz2", "x.zip", "x.json.zst"]),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]),
    cut=st.integers(min_value=0, max_value=400),
    compress=st.booleans(),
)
def test_any_landed_bytes_give_records_without_raising(content, name, encoding, cut, compress):
    file_format = "csv" if ".csv" in name else "json"
    if compress and name.endswith(".gz"):
        content = gzip.compress(content)[: cut or None]  # truncated, or whole
    records = file_records(f"/landing/{name}", content, file_format, {"encoding": encoding})
    assert all(
        isinstance(k, str) and (v is None or isinstance(v, str))
        for record in records
        for k, v in record.items()
    )
    if _holds_something(content) and not name.endswith((".gz", ".bz2", ".zst")):
        assert records, "a file with content gave no record"
