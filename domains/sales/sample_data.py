"""Seeded CRM sample data for the sales domain: customers and their orders, a batch per day.

Batch 0 creates 40 customers; each later batch adds 5, changes 6 and deletes 1, and every
batch has 120 orders. ``lakehouse.sample_data`` adds late, duplicate, malformed and
rule-breaking records to each batch.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

from lakehouse.sample_data import DatasetSample, Record

FIRST_DAY = datetime(2026, 3, 2)
COUNTRIES = ["NO", "SE", "DK", "FI", "DE", "GB"]
FIRST_NAMES = ["Ada", "Bo", "Cai", "Dina", "Eli", "Frida", "Gus", "Hedda", "Ivo", "Jon"]
LAST_NAMES = ["Berg", "Dahl", "Holm", "Lind", "Moe", "Nyberg", "Strand", "Vik"]
CURRENCIES = ["EUR", "EUR", "EUR", "NOK", "SEK", "USD", "GBP"]


def _at(rng: random.Random, batch: int) -> datetime:
    """A whole minute of the batch's day (the defects use the seconds)."""
    return FIRST_DAY + timedelta(days=batch, minutes=rng.randrange(8 * 60, 20 * 60))


def _new_customer(rng: random.Random, customer_id: int, batch: int) -> Record:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {
        "customer_id": customer_id,
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{customer_id}@example.com",
        "country": rng.choice(COUNTRIES),
        "segment": rng.choice(["consumer", "consumer", "business"]),
        "op": "I",
        "changed_at": _at(rng, batch),
    }


@cache
def customer_changes(batch: int) -> tuple[list[Record], dict[int, Record]]:
    """The batch's change events, and every live customer after it."""
    rng = random.Random(f"crm.customers:{batch}")
    live = dict(customer_changes(batch - 1)[1]) if batch else {}
    first_new = max(live, default=0) + 1
    changes = [
        _new_customer(rng, i, batch) for i in range(first_new, first_new + (5 if batch else 40))
    ]
    if live:
        for customer_id in rng.sample(sorted(live), 6):
            change = {**live[customer_id], "op": "U", "changed_at": _at(rng, batch)}
            if rng.random() < 0.5:
                change["segment"] = "business" if change["segment"] == "consumer" else "consumer"
            else:
                change["country"] = rng.choice(COUNTRIES)
            changes.append(change)
        leaver = rng.choice(sorted(set(live) - {c["customer_id"] for c in changes}))
        changes.append({**live[leaver], "op": "D", "changed_at": _at(rng, batch)})
    for change in changes:
        if change["op"] == "D":
            live.pop(change["customer_id"])
        else:
            live[change["customer_id"]] = change
    return changes, live


def orders(batch: int) -> list[Record]:
    rng = random.Random(f"crm.orders:{batch}")
    customers = sorted(customer_changes(batch)[1])
    return [
        {
            "order_id": f"SO-{batch:03d}-{i:04d}",
            "customer_id": rng.choice(customers),
            "ordered_at": _at(rng, batch),
            "amount": Decimal(rng.randrange(500, 90_000)) / 100,
            "currency": rng.choice(CURRENCIES),
        }
        for i in range(120)
    ]


SAMPLES = {
    "customers": DatasetSample(
        clean=lambda batch: customer_changes(batch)[0],
        breakers={
            "name_present": lambda r: {**r, "name": None},
            "email_well_formed": lambda r: {**r, "email": "no email on file"},
            "known_country": lambda r: {**r, "country": "XX"},
            "known_operation": lambda r: {**r, "op": "X"},
        },
    ),
    "orders": DatasetSample(
        clean=orders,
        breakers={
            "positive_amount": lambda r: {**r, "amount": -r["amount"]},
            "known_currency": lambda r: {**r, "currency": "JPY"},
        },
    ),
}
