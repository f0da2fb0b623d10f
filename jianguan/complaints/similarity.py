"""Scoring candidate duplicates (并单): character-bigram cosine similarity of the texts, raised when the tickets name
the same entity, the same place, or come from the same person (compared through the phone's blind index)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

_NOISE = re.compile(r"[\s\d，。！？、；：“”‘’（）()《》,.!?;:\"'\-]+")


def bigrams(text: str) -> Counter[str]:
    clean = _NOISE.sub("", text or "")
    return Counter(clean[i : i + 2] for i in range(len(clean) - 1))


def _norm(grams: Counter[str]) -> float:
    return math.sqrt(sum(c * c for c in grams.values()))


def _cosine(a: Counter[str], norm_a: float, b: Counter[str], norm_b: float) -> float:
    if not norm_a or not norm_b:
        return 0.0
    # the shared bigrams found by a set intersection (in C); counts are integers, so the sum is exact in any order
    dot = sum(a[gram] * b[gram] for gram in a.keys() & b.keys())
    return dot / (norm_a * norm_b)


class TextCache:
    """Each ticket's bigrams and their norm, cut once however many tickets it is compared with."""

    def __init__(self) -> None:
        self._texts: dict[Any, tuple[Counter[str], float]] = {}

    def get(self, key: Any, title: str, content: str) -> tuple[Counter[str], float]:
        found = self._texts.get(key)
        if found is None:
            grams = bigrams(f"{title}{content}")
            found = self._texts[key] = (grams, _norm(grams))
        return found


@dataclass(frozen=True)
class Candidate:
    """What scoring needs of an earlier ticket (read as plain values, not as a full model instance)."""

    pk: int
    title: str
    content: str
    subject_id: int | None
    subject_name: str
    place_address: str
    category_id: int | None
    phone_index: str


def score_candidates(
    complaint: Any, candidates: list[Candidate], *, reporter_index: str = "", texts: TextCache | None = None,
) -> list[tuple[Candidate, float, list[str]]]:
    """(candidate, score in 0–1, reasons) for each candidate, best first. ``texts`` shares the cut texts between
    calls (a batch of tickets whose candidates overlap)."""
    texts = texts or TextCache()
    mine, mine_norm = texts.get(getattr(complaint, "pk", None) or id(complaint), complaint.title, complaint.content)
    out = []
    for other in candidates:
        grams, norm = texts.get(other.pk, other.title, other.content)
        text = _cosine(mine, mine_norm, grams, norm)
        reasons = [f"text:{text:.2f}"]
        score = text
        if complaint.subject_id and other.subject_id == complaint.subject_id:
            score += 0.35
            reasons.append("same_subject")
        elif complaint.subject_name and other.subject_name == complaint.subject_name:
            score += 0.3
            reasons.append("same_subject_name")
        if complaint.place_address and other.place_address == complaint.place_address:
            score += 0.2
            reasons.append("same_place")
        if reporter_index and other.phone_index == reporter_index:
            score += 0.2
            reasons.append("same_reporter")
        if complaint.category_id and other.category_id == complaint.category_id:
            score += 0.05
            reasons.append("same_category")
        out.append((other, score, reasons))
    out.sort(key=lambda item: -item[1])  # by the raw sum, so that the cap below does not tie the best ones
    return [(other, min(score, 1.0), reasons) for other, score, reasons in out]
