"""The vocabulary of the demo: users, operation types, error messages, conflicting documents.

History and live traffic draw from the same lists so that the dashboard looks the same
before and after the demo's start; everything takes a `random.Random` so that tests can
make it deterministic.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

SYNC_OPERATIONS = (
    ("sync_push", 0.38),
    ("sync_pull", 0.34),
    ("sync_full", 0.06),
    ("conflict_check", 0.22),
)
PLAID_OPERATIONS = (("plaid_transactions", 0.6), ("plaid_balance", 0.3), ("plaid_link", 0.1))
PLAID_SHARE = 0.22  # of all operations

SYNC_ERRORS = (
    "network timeout after 30000ms",
    "HTTP 503 Service Unavailable from upstream sync-gateway",
    "version conflict: remote version 14 > local version 13",
    "ECONNRESET while streaming changeset",
    "payload too large: changeset exceeds 5 MiB",
)
SYNC_SPIKE_ERRORS = (
    "HTTP 503 Service Unavailable from upstream sync-gateway",
    "network timeout after 30000ms",
    "ECONNRESET while streaming changeset",
)
PLAID_ERRORS = (
    "Plaid ITEM_LOGIN_REQUIRED: the login details of this item have changed",
    "Plaid RATE_LIMIT_EXCEEDED: too many requests for this item",
    "Plaid INSTITUTION_DOWN: the institution is not responding",
    "Plaid PRODUCT_NOT_READY: transactions not yet available",
)
PLAID_OUTAGE_ERRORS = (
    "Plaid INSTITUTION_DOWN: the institution is not responding",
    "Plaid API 502 Bad Gateway",
    "Plaid RATE_LIMIT_EXCEEDED: too many requests for this item",
)
AUTO_RESOLUTIONS = ("last_write_wins", "field_merge", "server_wins", "client_wins")
MANUAL_RESOLUTIONS = {
    "keep_local": "manual_keep_local",
    "keep_remote": "manual_keep_remote",
    "merge": "manual_merge",
}
COLLEAGUES = ("maria.gonzalez", "dev.patel", "sam.okafor", "lena.fischer")
HEALTH_METRIC_TYPES = (
    "offline_queue_size",
    "sync_lag_ms",
    "battery_level",
    "pending_uploads",
    "network_quality",
)


def weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(names, weights)[0]


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson sample: exact for small means, normal approximation for large ones."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def lognormal_ms(rng: random.Random, median_ms: float, sigma: float, cap_ms: int) -> int:
    return max(5, min(cap_ms, round(rng.lognormvariate(math.log(median_ms), sigma))))


def make_users(rng: random.Random, count: int = 240) -> list[uuid.UUID]:
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(count)]


def new_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# -- conflicting documents ------------------------------------------------------------------

_CATEGORIES = ("Groceries", "Dining", "Transport", "Utilities", "Shopping", "Health", "Travel")
_MERCHANTS = ("Trader Joe's", "Shell", "Uber", "Comcast", "Amazon", "CVS", "Blue Bottle")
_NOTES = ("", "split with Alex", "reimbursable", "birthday gift", "work trip", "refund pending")
_BUDGETS = ("Dining out", "Groceries", "Fun money", "Kids", "Subscriptions", "Holidays")
_NICKNAMES = ("Joint checking", "Rainy day", "Everyday card", "Travel card", "Emergency fund")
_COLORS = ("#3b82f6", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6")


Edit = Callable[[random.Random, Any], Any]


def _pick_other(options: tuple[Any, ...]) -> Edit:
    return lambda rng, current: rng.choice([o for o in options if o != current] or options)


def _new_amount(rng: random.Random, current: Any) -> Any:
    return round(float(current) + rng.choice((-1, 1)) * rng.uniform(0.5, 40), 2)


def _flip(rng: random.Random, current: Any) -> Any:
    return not current


_SHAPES: dict[str, tuple[Callable[[random.Random], dict[str, Any]], dict[str, Edit]]] = {
    "transaction": (
        lambda rng: {
            "amount": round(rng.uniform(3, 250), 2),
            "currency": "USD",
            "merchant": rng.choice(_MERCHANTS),
            "category": rng.choice(_CATEGORIES),
            "note": rng.choice(_NOTES),
            "pending": False,
        },
        {
            "amount": _new_amount,
            "category": _pick_other(_CATEGORIES),
            "note": _pick_other(_NOTES),
            "pending": _flip,
        },
    ),
    "budget": (
        lambda rng: {
            "name": rng.choice(_BUDGETS),
            "limit": rng.choice((150, 200, 300, 450)),
            "period": "monthly",
            "rollover": False,
            "alert_at_percent": 80,
        },
        {
            "limit": _pick_other((150, 175, 200, 250, 300, 350, 450, 500)),
            "rollover": _flip,
            "alert_at_percent": _pick_other((75, 80, 90, 100)),
            "period": _pick_other(("monthly", "weekly")),
        },
    ),
    "account": (
        lambda rng: {
            "nickname": rng.choice(_NICKNAMES),
            "hidden": False,
            "color": rng.choice(_COLORS),
            "include_in_net_worth": True,
        },
        {
            "nickname": _pick_other(_NICKNAMES),
            "hidden": _flip,
            "color": _pick_other(_COLORS),
            "include_in_net_worth": _flip,
        },
    ),
}


def conflict_documents(
    rng: random.Random,
    entity_type: str,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(local, remote, base): each side edits fields of base; one field both edit differently."""
    make_base, edits = _SHAPES[entity_type]
    base = make_base(rng)
    base["updated_at"] = rfc3339(now - timedelta(hours=rng.uniform(2, 72)))
    fields = list(edits)
    rng.shuffle(fields)
    local, remote = dict(base), dict(base)
    contested = fields[0]
    local[contested] = edits[contested](rng, base[contested])
    remote[contested] = edits[contested](rng, local[contested])
    for field in fields[1 : 1 + rng.randint(0, 2)]:
        side = local if rng.random() < 0.5 else remote
        side[field] = edits[field](rng, base[field])
    local["updated_at"] = rfc3339(now - timedelta(seconds=rng.uniform(30, 600)))
    remote["updated_at"] = rfc3339(now - timedelta(seconds=rng.uniform(30, 600)))
    # A record created on two devices while offline has no common ancestor.
    return local, remote, (None if rng.random() < 0.12 else base)


def entity_id(rng: random.Random, entity_type: str) -> str:
    prefix = {"transaction": "txn", "budget": "bud", "account": "acc"}[entity_type]
    return f"{prefix}_{rng.getrandbits(48):012x}"


def entity_type(rng: random.Random) -> str:
    return rng.choices(tuple(_SHAPES), (0.65, 0.2, 0.15))[0]


def health_reading(rng: random.Random, metric_type: str, *, stressed: bool = False) -> Any:
    """A `metric_value`: a bare number, a `{"value": n, ...}` object, or now and then neither."""
    if metric_type == "offline_queue_size":
        return poisson(rng, 40 if stressed else 3)
    if metric_type == "sync_lag_ms":
        return {
            "value": lognormal_ms(rng, 9000 if stressed else 800, 0.6, 60_000),
            "p95": lognormal_ms(rng, 20000 if stressed else 2500, 0.4, 120_000),
        }
    if metric_type == "battery_level":
        return {"value": round(rng.uniform(0.08, 1.0), 2), "charging": rng.random() < 0.3}
    if metric_type == "pending_uploads":
        return poisson(rng, 12 if stressed else 1)
    # Free-form diagnostics from older app versions: not a number, still worth showing.
    return {
        "effective_type": rng.choice(("4g", "wifi", "3g", "offline")),
        "rtt_ms_bucket": rng.choice(("<100", "100-300", ">300")),
    }
