"""Counting what an import creates, updates and leaves unchanged, with the first few of each to show."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

# Records read and written per round trip: big enough that the database does the work in bulk, small
# enough that an IN (...) list stays well inside every database's parameter limit.
BATCH_SIZE = 1000
SAMPLE_SIZE = 10
# While checking rows, progress is reported every this many rows.
PROGRESS_EVERY = 2000
CATEGORIES = ("created", "updated", "unchanged")

T = TypeVar("T")


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in CATEGORIES})

    def add(self, category: str, sample: dict[str, Any]) -> None:
        self.counts[category] += 1
        if len(self.samples[category]) < SAMPLE_SIZE:
            self.samples[category].append(sample)
