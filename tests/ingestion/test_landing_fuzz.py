"""Fuzzing the landing folder: whatever bytes arrive (random bytes, other encodings, truncated or
mislabelled compression, archives, hidden names, dated subfolders), the ingestion update
succeeds, every file is accounted for from the landing folder, and every bronze row reaches
silver or quarantine.

One update per example, so the default run tries one fixed batch of files;
``LAKEHOUSE_FUZZ_EXAMPLES=20`` tries twenty random ones."""

from __future__ import annotations

import bz2
import gzip
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakehouse.contracts import load_contract
from lakehouse.ingestion import row_conservation
from lakehouse.ingestion.landing_audit import Fate, audit_landing
from tests.ingestion.test_bronze import CONTRACTS_DIR, _run

EXAMPLES = int(os.environ.get("LAKEHOUSE_FUZZ_EXAMPLES", "1"))

values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)
orders = st.fixed_dictionaries(
    {
        "order_id": st.text(max_size=4),
        "customer_id": values,
        "ordered_at": values,
        "amount": values,
    },
    optional={"currency": values, "_file_path": values, "extra": values},
)


@st.composite
def landed_files(draw: st.DrawFn) -> tuple[str, bytes]:
    text = "\n".join(json.dumps(o) for o in draw(st.lists(orders, max_size=5)))
    raw = text.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"])), "replace")
    content, extension = draw(
        st.sampled_from(
            [
                (raw, ".json"),
                (gzip.compress(raw), ".json.gz"),
                (bz2.compress(raw), ".json.bz2"),
                (gzip.compress(raw), ".json"),  # compressed, named plain
                (raw, ".json.gz"),  # plain, named compressed
                (b"PK\x03\x04" + raw, ".zip"),
            ]
        )
    )
    cut = draw(st.integers(min_value=0, max_value=len(content)))
    content = draw(st.sampled_from([content, content[:cut], draw(st.binary(max_size=200))]))
    folder = draw(st.sampled_from(["", "2026/03/02/", "_tmp/", ".hidden/"]))
    prefix = draw(st.sampled_from(["", "", "_", "."]))
    return f"{folder}{prefix}{{}}{extension}", content


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES == 1,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=st.lists(landed_files(), min_size=8, max_size=24))
def test_random_landed_files_never_fail_an_update_or_go_unaccounted(spark, tmp_path_factory, files):
    root = tmp_path_factory.mktemp("fuzz")
    orders_folder = root / "landing/crm/orders"
    for number, (pattern, content) in enumerate(files):
        file = orders_folder / pattern.format(f"f{number}")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content)

    result = _run(spark, root)  # never raises

    contract = load_contract(CONTRACTS_DIR / "crm_orders.yaml")
    (audit,) = audit_landing([contract], storage=root / "storage", landing=root / "landing")
    assert len(audit.files) == len(files)
    assert audit.holds, [f for f in audit.files if not f.fate.accounted]
    assert {f.fate for f in audit.files} <= {Fate.INGESTED, Fate.UNREADABLE, Fate.IGNORED}
    assert row_conservation(result, contract, "dev").holds
