"""The code the bundle deploys imports on Databricks, where the local engine's dependencies
(delta-rs, delta-spark) are not installed."""

from __future__ import annotations

import subprocess
import sys

DEPLOYED = [
    "lakehouse.ingestion.source_system",
    "lakehouse.governance.table_grants",
    "lakehouse.governance.sandpit_cleanup",
    "lakehouse.governance.share_job",
    "lakehouse.operations.deep_clone",
]


def test_deployed_code_imports_without_the_local_engines_dependencies():
    code = (
        "import sys\n"
        "for name in ('deltalake', 'delta', 'delta.tables'):\n"
        "    sys.modules[name] = None  # importing them now fails\n"
        f"for module in {DEPLOYED!r}:\n"
        "    __import__(module)\n"
        "print(sorted(m for m in sys.modules if m.startswith('lakehouse.engine')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # the stage folders' packages (lakehouse.engine.graph, ...) come with their modules
    assert run.stdout.strip() == str(
        [
            "lakehouse.engine",
            "lakehouse.engine.errors",
            "lakehouse.engine.graph",
            "lakehouse.engine.graph.elements",
            "lakehouse.engine.observability",
            "lakehouse.engine.observability.masking",
            "lakehouse.engine.settings",
            "lakehouse.engine.sources",
            "lakehouse.engine.sources.landed_records",
        ]
    )
