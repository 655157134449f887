"""A hand-made mutation sample over the core, the HTTP layer and the config: each mutant is one
small change a tired hand could make; the fast tests that cover that code must fail on it.

    python bench/mutation_sample.py [--only NAME]

Works on a copy of the repository in a temporary directory (the tree is never touched) and
prints one line per mutant (killed or SURVIVED, with the seconds its tests took), then the
kill rate. No assertions: the rate is for people (closing notes, docs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # under src/syncmon
    old: str  # must occur exactly once
    new: str
    tests: tuple[str, ...]


UNIT = "tests/unit"
M = Mutant
MUTANTS = [
    # core/conditions.py: the comparison operators
    M("gt is ge", "core/conditions.py", '">": operator.gt,', '">": operator.ge,', (UNIT,)),
    M("ge is gt", "core/conditions.py", '">=": operator.ge,', '">=": operator.gt,', (UNIT,)),
    M("lt is le", "core/conditions.py", '"<": operator.lt,', '"<": operator.le,', (UNIT,)),
    M("le is lt", "core/conditions.py", '"<=": operator.le,', '"<=": operator.lt,', (UNIT,)),
    # core/metrics.py: exact rates
    M(
        "success rate from failures",
        "core/metrics.py",
        '"sync_success_rate", _ratio(total - agg.sync_failed, total)',
        '"sync_success_rate", _ratio(total - agg.sync_failed, total + 1)',
        (UNIT,),
    ),
    M(
        "error rate without plaid failures",
        "core/metrics.py",
        "_ratio(agg.sync_failed + agg.plaid_failed, all_total)",
        "_ratio(agg.sync_failed, all_total)",
        (UNIT,),
    ),
    M(
        "throughput per second",
        "core/metrics.py",
        "Fraction(total * 60, w) if w else None",
        "Fraction(total, w) if w else None",
        (UNIT,),
    ),
    # core/alerts.py: min_samples, for, keep_firing_for
    M(
        "min_samples off by one",
        "core/alerts.py",
        "if comparable is None or count < needed:",
        "if comparable is None or count <= needed:",
        (UNIT,),
    ),
    M(
        "check fires before for",
        "core/alerts.py",
        "if held >= rule.for_ or since.bounded:",
        "if held > rule.for_ or since.bounded:",
        (UNIT,),
    ),
    M(
        "watch fires before for",
        "core/alerts.py",
        "return since is not None and (since.bounded or now - since.at >= self.rule.for_)",
        "return since is not None and (since.bounded or now - since.at > self.rule.for_)",
        (UNIT,),
    ),
    M(
        "keep_firing_for ignored",
        "core/alerts.py",
        "if keep and now - self.false_since < keep:",
        "if keep and now - self.false_since < keep - keep:",
        (UNIT,),
    ),
    # core/history.py: p95 rank
    M(
        "p95 rank",
        "core/history.py",
        "low_rank = 19 * (total - 1) // 20",
        "low_rank = 19 * total // 20",
        (UNIT,),
    ),
    # core/durations.py
    M(
        "a future --at accepted",
        "core/durations.py",
        "if moment > now + timedelta(seconds=5):",
        "if moment > now + timedelta(days=5):",
        (UNIT,),
    ),
    M(
        "durations under a minute",
        "core/durations.py",
        "if seconds < 60:",
        "if seconds <= 60:",
        (UNIT,),
    ),
    # core/text.py
    M(
        "1 rules",
        "core/text.py",
        "word if count == 1 else many or word + 's'",
        "word if count == 0 else many or word + 's'",
        (UNIT,),
    ),
    # transport/net.py: the body cap, the retry rule, success statuses
    M(
        "cap off by one",
        "transport/net.py",
        "        size += len(chunk)\n        if size > cap:",
        "        size += len(chunk)\n        if size >= cap:",
        ("tests/integration/test_hostile_http.py", "tests/integration/test_encoded_bodies.py"),
    ),
    M(
        "429 not retried",
        "transport/net.py",
        "status not in (408, 429)",
        "status not in (408,)",
        (UNIT, "tests/integration/test_hostile_http.py"),
    ),
    M(
        "3xx is success",
        "transport/net.py",
        "return 200 <= self.status < 300",
        "return 200 <= self.status < 400",
        ("tests/integration/test_hostile_http.py", "tests/integration/test_health_poller.py"),
    ),
    # config/: the limits validate enforces
    M(
        "for may pass the lookback",
        "config/loader.py",
        "if for_ > lookback:",
        "if for_ > lookback + lookback:",
        (UNIT,),
    ),
    M(
        "for equal to the lookback refused",
        "config/loader.py",
        "if for_ > lookback:",
        "if for_ >= lookback:",
        (UNIT,),
    ),
    M(
        "33 windows",
        "config/loader.py",
        "if len(seen) < MAX_WINDOWS:",
        "if len(seen) <= MAX_WINDOWS:",
        (UNIT, "tests/integration/test_bounded_statements.py"),
    ),
    M(
        "config size cap",
        "config/loader.py",
        "if len(data) > MAX_CONFIG_BYTES:",
        "if len(data) > MAX_CONFIG_BYTES + 1:",
        (UNIT,),
    ),
    # config/redaction.py. "mask_dsn shows the password" (its netloc rewrite removed) became an
    # equivalent mutant once redact's own pattern masked a password to the authority's last @;
    # these two take its place.
    M(
        "URL password cut at its first @",
        "config/redaction.py",
        r"(?P<pw>[^\s/?#]*)@",
        r"(?P<pw>[^@\s/?#]*)@",
        (UNIT,),
    ),
    M(
        "URL password runs past the authority",
        "config/redaction.py",
        r"(?P<pw>[^\s/?#]*)@",
        r"(?P<pw>[^\s]*)@",
        (UNIT,),
    ),
]


def run(mutant: Mutant, copy: Path) -> tuple[bool, float]:
    target = copy / "src" / "syncmon" / mutant.path
    original = target.read_text()
    if original.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: the text to mutate is not in {mutant.path} once")
    target.write_text(original.replace(mutant.old, mutant.new))
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=copy,
            env=env,
            capture_output=True,
            timeout=900,
            check=False,
        )
        killed = result.returncode != 0
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        target.write_text(original)
    return killed, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run the mutants whose name contains this")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or args.only in m.name]
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(
            REPO,
            copy,
            ignore=shutil.ignore_patterns(".git", ".venv", ".ci", "__pycache__", ".cache"),
        )
        killed = 0
        for mutant in chosen:
            dead, seconds = run(mutant, copy)
            killed += dead
            word = "killed" if dead else "SURVIVED"
            print(f"{word:9} {seconds:6.1f}s  {mutant.path}: {mutant.name}", flush=True)
    print(f"{killed} of {len(chosen)} mutants killed ({100 * killed / len(chosen):.0f} %)")


if __name__ == "__main__":
    main()
