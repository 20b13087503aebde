"""The platform demo: lands sample data and runs the domains' pipelines with the local engine.

Each run lands one more batch of files and runs an incremental update, as a scheduled job
would; ``fresh=True`` starts from an empty storage folder.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from lakehouse.engine import UpdateResult, run_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
DOMAINS = REPO_ROOT / "domains"


@dataclass(frozen=True)
class DemoRun:
    batch: int
    landed_files: list[Path]
    updates: list[UpdateResult]


def land_sales_orders(landing: Path, batch: int, rows: int = 200) -> Path:
    """Write one deterministic batch of order files, with some bad records on purpose."""
    rng = random.Random(batch)
    landing.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 1, 1) + timedelta(days=batch)
    records = []
    for i in range(rows):
        record = {
            "order_id": f"O{batch:04d}-{i:05d}",
            "customer_id": f"C{rng.randint(1, 50):03d}",
            "order_ts": (start + timedelta(minutes=rng.randint(0, 1439))).isoformat(),
            "amount": round(rng.uniform(5, 500), 2),
            "currency": rng.choice(["EUR", "EUR", "USD", "GBP"]),
        }
        if i % 50 == 7:
            record["order_id"] = None  # dropped by valid_order_id
        if i % 40 == 3:
            record["amount"] = -record["amount"]  # counted by positive_amount
        records.append(record)
    path = landing / f"orders-{batch:04d}.json"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def run_demo(
    storage: Path,
    *,
    fresh: bool = False,
    on_progress: Callable[[str, str, object], None] | None = None,
) -> DemoRun:
    """Land the next batch and run every domain pipeline once.

    Example:
        >>> run_demo(Path(".lakehouse"))  # doctest: +SKIP
    """
    storage = storage.resolve()
    if fresh:
        shutil.rmtree(storage, ignore_errors=True)
    landing = storage / "landing" / "crm" / "orders"
    batch = len(list(landing.glob("orders-*.json"))) if landing.is_dir() else 0
    landed = [land_sales_orders(landing, batch)]
    update = run_pipeline(
        [DOMAINS / "sales" / "pipelines"],
        storage=storage,
        name="sales_gold",
        catalog="dev_gold",
        schema="sales",
        configuration={"sales.landing_path": str(landing)},
        on_progress=on_progress,
    )
    return DemoRun(batch, landed, [update])
