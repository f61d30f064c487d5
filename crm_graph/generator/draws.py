"""Small vectorised drawing helpers on a NumPy random generator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def weighted(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """`size` indices into `weights`, each drawn with probability proportional to its weight."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)


def zipf_weights(count: int, exponent: float = 1.1, offset: float = 2.0) -> np.ndarray:
    """Weights falling off like a Zipf law: the first items are much more popular than the rest."""
    return 1.0 / (np.arange(count) + offset) ** exponent


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Where each group starts in a flat array of consecutive groups of the given sizes."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def rank_in_group(counts: np.ndarray) -> np.ndarray:
    """For a flat array of consecutive groups, each element's 0-based position in its group."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts), counts)


def pick(values: Sequence, indices: np.ndarray) -> np.ndarray:
    """`values[i]` for each index, as an object array (for strings)."""
    return np.asarray(values, dtype=object)[indices]
