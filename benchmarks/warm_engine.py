"""The warm engine against cold processes, as a user runs them: whole `lakehouse` commands.

- `lakehouse pipeline run` of the sales gold pipeline: a second warm run against a cold run
  (target: <= 20% of the cold time);
- `lakehouse sql` returning 3 rows, warm (target: <= 1.5 s).

Both sides run the same command line in the same environment (the warm engine is the same
code, started with the same Spark settings); cold runs set `LAKEHOUSE_ENGINE=cold`. Each
figure is the median of --repeats runs with the spread, and every warm run's output equals
the cold run's. The demo's first batch gives the inputs (sales' silver), in a temporary folder,
with a warm engine of the benchmark's own (`LAKEHOUSE_ENGINE_HOME`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import describe

REPO = Path(__file__).resolve().parents[1]
LAKEHOUSE = str(Path(sys.executable).parent / "lakehouse")
QUERY = "SELECT order_date, currency, revenue FROM dev_gold.sales.daily_revenue ORDER BY order_date, currency LIMIT 3"  # fmt: skip


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds the command took, and its standard output without update ids and timings."""
    started = time.perf_counter()
    done = subprocess.run([LAKEHOUSE, *args], capture_output=True, text=True, env=env, cwd=REPO)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stderr}")
    return took, re.sub(r"\d+\.\d+s|[0-9a-f]{8}-[0-9a-f-]{27}", "", done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory(prefix="lakehouse-warm-bench-") as folder:
        storage = Path(folder) / "storage"
        warm_env = {**os.environ, "LAKEHOUSE_ENGINE_HOME": str(Path(folder) / "engine")}
        warm_env.pop("LAKEHOUSE_ENGINE", None)
        cold_env = {**warm_env, "LAKEHOUSE_ENGINE": "cold"}
        pipeline = ["pipeline", "run", "--settings", "domains/sales/resources/sales_gold.pipeline.yml",
                    "--target", "sales-dev", "--var", "env=dev", "--var", "schema_prefix=",
                    "--storage", str(storage)]  # fmt: skip
        sql = ["sql", "--storage", str(storage), QUERY]
        print("the inputs: the demo's first batch, cold ...", flush=True)
        run(["demo", "--storage", str(storage), "--fresh", "--no-score"], cold_env)
        cold_runs = [run(pipeline, cold_env) for _ in range(repeats)]
        cold_sql = [run(sql, cold_env) for _ in range(repeats)]
        subprocess.run([LAKEHOUSE, "engine", "start"], env=warm_env, check=True, cwd=REPO)
        try:
            first = run(pipeline, warm_env)
            warm_runs = [run(pipeline, warm_env) for _ in range(repeats)]
            warm_sql = [run(sql, warm_env) for _ in range(repeats)]
        finally:
            subprocess.run([LAKEHOUSE, "engine", "stop"], env=warm_env, cwd=REPO)
    outputs = {out for _, out in [*cold_runs, first, *warm_runs]}
    assert len(outputs) == 1, "a warm pipeline run printed other rows than a cold one"
    assert len({out for _, out in [*cold_sql, *warm_sql]}) == 1, "warm sql printed other rows"
    cold_times, warm_times = [t for t, _ in cold_runs], [t for t, _ in warm_runs]
    print(f"sales gold, cold process: {describe(cold_times)}")
    print(f"sales gold, first warm run: {first[0]:.2f} s")
    print(f"sales gold, warm (second and later runs): {describe(warm_times)}")
    ratio = statistics.median(warm_times) / statistics.median(cold_times)
    spread = (min(warm_times) / max(cold_times), max(warm_times) / min(cold_times))
    print(f"warm / cold: {ratio:.1%} (spread {spread[0]:.1%}-{spread[1]:.1%}; target <= 20%)")
    print(f"lakehouse sql, 3 rows, cold process: {describe([t for t, _ in cold_sql])}")
    warm_sql_times = [t for t, _ in warm_sql]
    print(f"lakehouse sql, 3 rows, warm: {describe(warm_sql_times)}; target <= 1.5 s")


if __name__ == "__main__":
    main()
