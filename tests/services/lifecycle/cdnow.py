"""The CDNOW data set of the BG/NBD and Gamma-Gamma papers, fetched from the `lifetimes` wheel on PyPI.

`lifetimes` (not a dependency of crm-graph) ships two CDNOW files: `CDNOW_master.txt`, all 23,570
customers of the 1997Q1 cohort, and `CDNOW_sample.txt`, the 1/10th systematic sample of 2,357
customers on which Fader, Hardie & Lee fitted and published their parameters. The wheel is
downloaded once with pip and cached in pytest's cache directory.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.conftest import unavailable

WHEEL_REQUIREMENT = "lifetimes==0.11.3"
SAMPLE_MEMBER = "lifetimes/datasets/CDNOW_sample.txt"


@dataclass(frozen=True)
class Transaction:
    """One line of the CDNOW file: a customer's purchase of some CDs on a day."""

    customer: str
    day: date
    cds: int
    value: Decimal


def fetch_wheel(cache_dir: Path) -> Path:
    """The lifetimes wheel in `cache_dir`, downloaded with pip when missing (skip/fail when offline)."""
    wheels = sorted(cache_dir.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if wheels:
        return wheels[0]
    command = [sys.executable, "-m", "pip", "download", WHEEL_REQUIREMENT, "--no-deps", "--only-binary=:all:",
               "--quiet", "--disable-pip-version-check", "-d", str(cache_dir)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=180)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        unavailable("PyPI (to download the lifetimes wheel with the CDNOW data)", RuntimeError(detail))
    wheels = sorted(cache_dir.glob("[Ll]ifetimes-0.11.3-*.whl"))
    assert wheels, f"pip reported success but left no wheel in {cache_dir}"
    return wheels[0]


def read_sample(wheel: Path) -> list[Transaction]:
    """The transactions of CDNOW_sample.txt: `master id, sample id, yyyymmdd, CDs, dollars` per line."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(SAMPLE_MEMBER).decode("ascii")
    transactions = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        _, sample_id, day, cds, value = parts
        transactions.append(Transaction(sample_id, date(int(day[:4]), int(day[4:6]), int(day[6:])), int(cds),
                                        Decimal(value)))
    return transactions
