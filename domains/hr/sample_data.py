"""Seeded HRIS sample data for the hr domain: employees and their changes, a batch per day.

Batch 0 has 60 employees; each later batch hires 3, changes 4 (a move, a new title or a
raise) and has 1 leaver. ``lakehouse.sample_data`` adds late, duplicate, malformed and
rule-breaking records to each batch.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from lakehouse.sample_data import DatasetSample, Record

FIRST_DAY = datetime(2026, 3, 2)
DEPARTMENTS = ["Finance", "Sales", "HR", "Engineering", "Operations"]
TITLES = ["Associate", "Specialist", "Senior specialist", "Lead", "Manager"]
NAMES = ["Amir", "Berit", "Chen", "Dag", "Elin", "Femi", "Gro", "Hugo", "Iris", "Jens"]


def _changed_at(rng: random.Random, batch: int) -> datetime:
    """A whole minute of the batch's day (the defects use the seconds)."""
    return FIRST_DAY + timedelta(days=batch, minutes=rng.randrange(7 * 60, 18 * 60))


def _hire(rng: random.Random, employee_id: int, batch: int) -> Record:
    return {
        "employee_id": employee_id,
        "full_name": f"{rng.choice(NAMES)} {rng.choice(NAMES)}sen",
        "department": rng.choice(DEPARTMENTS),
        "job_title": rng.choice(TITLES),
        "salary": Decimal(rng.randrange(480, 1_200)) * 1000,
        "hired_on": date(2020, 1, 1) + timedelta(days=rng.randrange(2_200)),
        "op": "I",
        "changed_at": _changed_at(rng, batch),
    }


@cache
def employee_changes(batch: int) -> tuple[list[Record], dict[int, Record]]:
    """The batch's change events, and every employee after it."""
    rng = random.Random(f"hris.employees:{batch}")
    staff = dict(employee_changes(batch - 1)[1]) if batch else {}
    first_new = max(staff, default=1000) + 1
    changes = [_hire(rng, i, batch) for i in range(first_new, first_new + (3 if batch else 60))]
    if staff:
        for employee_id in rng.sample(sorted(staff), 4):
            change = {**staff[employee_id], "op": "U", "changed_at": _changed_at(rng, batch)}
            what = rng.choice(["department", "job_title", "salary"])
            if what == "department":
                change["department"] = rng.choice(DEPARTMENTS)
            elif what == "job_title":
                change["job_title"] = rng.choice(TITLES)
            else:
                change["salary"] = (change["salary"] * Decimal("1.04")).quantize(Decimal("0.01"))
            changes.append(change)
        leaver = rng.choice(sorted(set(staff) - {c["employee_id"] for c in changes}))
        changes.append({**staff[leaver], "op": "D", "changed_at": _changed_at(rng, batch)})
    for change in changes:
        if change["op"] == "D":
            staff.pop(change["employee_id"])
        else:
            staff[change["employee_id"]] = change
    return changes, staff


SAMPLES = {
    "employees": DatasetSample(
        clean=lambda batch: employee_changes(batch)[0],
        breakers={
            "known_department": lambda r: {**r, "department": "Marketing"},
            "positive_salary": lambda r: {**r, "salary": Decimal("0")},
            "known_operation": lambda r: {**r, "op": "X"},
        },
    ),
}
