"""Seeded ERP sample data for the finance domain: cost centres and general-ledger journal
lines, a batch per posting day.

Batch 0 creates 8 cost centres; each later batch changes 3 of them (a new owner or a new
name) and every second batch opens one more. Each batch posts 20 balanced journals: supplier
invoices charged to cost centres, and customer invoices. ``lakehouse.sample_data`` adds late,
duplicate, malformed and rule-breaking records to each batch.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from lakehouse.sample_data import DatasetSample, Record

FIRST_DAY = date(2026, 3, 2)
DEPARTMENTS = ["Finance", "Sales", "HR", "Engineering", "Operations"]
COST_CENTRE_NAMES = [
    "Accounting", "Field sales", "Recruiting", "Platform", "Logistics", "Treasury",
    "Inside sales", "Data", "Facilities", "Support", "Payroll", "Marketing",
]  # fmt: skip
OWNERS = ["ines", "kari", "lars", "mona", "nils", "olga", "per", "rut"]
EXPENSE_ACCOUNTS = ["5000", "6100", "6200", "6300"]  # salaries, travel, software, office
PAYABLES, RECEIVABLES, REVENUE = "2400", "1500", "4000"


def _changed_at(rng: random.Random, batch: int) -> datetime:
    """A whole minute of the batch's day (the defects use the seconds)."""
    day = datetime.combine(FIRST_DAY, datetime.min.time()) + timedelta(days=batch)
    return day + timedelta(minutes=rng.randrange(7 * 60, 19 * 60))


def _new_cost_centre(rng: random.Random, number: int, batch: int) -> Record:
    return {
        "cost_centre_id": f"CC-{100 + 10 * number}",
        "name": COST_CENTRE_NAMES[number % len(COST_CENTRE_NAMES)],
        "department": DEPARTMENTS[number % len(DEPARTMENTS)],
        "owner_email": f"{rng.choice(OWNERS)}@example.com",
        "op": "I",
        "changed_at": _changed_at(rng, batch),
    }


@cache
def cost_centre_changes(batch: int) -> tuple[list[Record], dict[str, Record]]:
    """The batch's change events, and every cost centre after it."""
    rng = random.Random(f"erp.cost_centres:{batch}")
    live = dict(cost_centre_changes(batch - 1)[1]) if batch else {}
    if not batch:
        changes = [_new_cost_centre(rng, n, batch) for n in range(1, 9)]
    else:
        changes = []
        for cost_centre_id in rng.sample(sorted(live), 3):
            change = {**live[cost_centre_id], "op": "U", "changed_at": _changed_at(rng, batch)}
            if rng.random() < 0.5:
                change["owner_email"] = f"{rng.choice(OWNERS)}@example.com"
            else:
                change["name"] = f"{change['name']} {batch}"
            changes.append(change)
        if batch % 2 == 0:
            changes.append(_new_cost_centre(rng, len(live) + 1, batch))
    live.update({c["cost_centre_id"]: c for c in changes})
    return changes, live


def _line(journal_id: str, line_no: int, posted_on: date, account: str) -> Record:
    return {
        "journal_id": journal_id,
        "line_no": line_no,
        "posted_on": posted_on,
        "account": account,
        "cost_centre_id": None,
        "debit": Decimal("0.00"),
        "credit": Decimal("0.00"),
        "description": None,
    }


def journal_lines(batch: int) -> list[Record]:
    rng = random.Random(f"erp.gl_journal_lines:{batch}")
    posted_on = FIRST_DAY + timedelta(days=batch)
    cost_centres = sorted(cost_centre_changes(batch)[1])
    lines: list[Record] = []
    for number in range(20):
        journal_id = f"JE-{batch:03d}-{number:03d}"
        if rng.random() < 0.6:  # a supplier invoice, charged to cost centres
            total = Decimal(0)
            for line_no in range(1, rng.randint(2, 3) + 1):
                amount = Decimal(rng.randrange(2_000, 500_000)) / 100
                line = _line(journal_id, line_no, posted_on, rng.choice(EXPENSE_ACCOUNTS))
                line.update(
                    cost_centre_id=rng.choice(cost_centres), debit=amount, description="Invoice"
                )
                lines.append(line)
                total += amount
            payable = _line(journal_id, line_no + 1, posted_on, PAYABLES)
            payable.update(credit=total, description="Supplier payable")
            lines.append(payable)
        else:  # a customer invoice
            amount = Decimal(rng.randrange(10_000, 2_000_000)) / 100
            receivable = _line(journal_id, 1, posted_on, RECEIVABLES)
            receivable.update(debit=amount, description="Customer receivable")
            revenue = _line(journal_id, 2, posted_on, REVENUE)
            revenue.update(credit=amount, description="Revenue")
            lines += [receivable, revenue]
    return lines


SAMPLES = {
    "cost_centres": DatasetSample(
        clean=lambda batch: cost_centre_changes(batch)[0],
        breakers={
            "cost_centre_code": lambda r: {**r, "cost_centre_id": "110"},
            "known_operation": lambda r: {**r, "op": "X"},
        },
    ),
    "gl_journal_lines": DatasetSample(
        clean=journal_lines,
        breakers={
            "account_in_chart": lambda r: {**r, "account": "9999"},
            "non_negative_amounts": lambda r: {**r, "debit": Decimal("-1.00")},
            "one_sided_line": lambda r: {**r, "debit": Decimal("5.00"), "credit": Decimal("5.00")},
        },
    ),
}
