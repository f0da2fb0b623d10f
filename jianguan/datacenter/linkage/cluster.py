"""Turning scored pairs into entities, with valid credit codes as fixed anchors.

Records that share a valid credit code are one entity (deterministic). Two different valid codes are never merged:
a record without a usable code joins the anchor it is most strongly linked to (its best link decides, not a chain of
links), possibly through another record that already joined one. Records linked to no anchor form entities among
themselves (connected components of their links).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """Why an unanchored record joined its entity: the deciding link."""

    partner: str
    weight: float
    probability: float


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def cluster(
    ids: Sequence[str],
    anchors: Sequence[str | None],
    edges: Iterable[tuple[str, str, float, float]],
    *,
    propagation_rounds: int = 3,
) -> tuple[dict[str, str], dict[str, Assignment]]:
    """Entity key per record, and the deciding link of every record placed by a link.

    ``edges`` are ``(id_l, id_r, weight, probability)`` above the threshold. The key is ``"A:" + anchor`` for entities
    with a credit code and ``"N:" + smallest id`` for the others.
    """
    anchor_of = {i: a for i, a in zip(ids, anchors, strict=True) if a}
    key: dict[str, str] = {i: f"A:{a}" for i, a in anchor_of.items()}
    loose_edges: list[tuple[str, str, float, float]] = []
    best: dict[str, tuple[float, str, Assignment]] = {}
    for left, right, weight, prob in edges:
        la, ra = left in anchor_of, right in anchor_of
        if la and ra:
            continue  # both carry valid codes: decided deterministically
        if la or ra:
            anchored, loose = (left, right) if la else (right, left)
            candidate = (weight, f"A:{anchor_of[anchored]}", Assignment(anchored, weight, prob))
            if loose not in best or candidate[0] > best[loose][0] or (
                candidate[0] == best[loose][0] and candidate[1] < best[loose][1]
            ):
                best[loose] = candidate
        else:
            loose_edges.append((left, right, weight, prob))
    assignment: dict[str, Assignment] = {}
    for loose, (_w, k, why) in best.items():
        key[loose] = k
        assignment[loose] = why
    # Records linked only to records that already joined an anchor follow them (best link first).
    for _round in range(propagation_rounds):
        found: dict[str, tuple[float, str, Assignment]] = {}
        for left, right, weight, prob in loose_edges:
            for a, b in ((left, right), (right, left)):
                if a in key and b not in key:
                    candidate = (weight, key[a], Assignment(a, weight, prob))
                    if b not in found or candidate[0] > found[b][0] or (
                        candidate[0] == found[b][0] and candidate[1] < found[b][1]
                    ):
                        found[b] = candidate
        if not found:
            break
        for loose, (_w, k, why) in found.items():
            key[loose] = k
            assignment[loose] = why
    uf = _UnionFind()
    strongest: dict[str, Assignment] = {}
    for left, right, weight, prob in loose_edges:
        if left in key or right in key:
            continue
        uf.union(left, right)
        for a, b in ((left, right), (right, left)):
            if a not in strongest or weight > strongest[a].weight:
                strongest[a] = Assignment(b, weight, prob)
    for i in ids:
        if i not in key:
            key[i] = f"N:{uf.find(i)}"
            if i in strongest:
                assignment[i] = strongest[i]
    return key, assignment


def cluster_ids(ids: Sequence[str], keys: dict[str, str]) -> dict[str, str]:
    """Present entity keys as the smallest record id of each entity."""
    smallest: dict[str, str] = {}
    for i in ids:
        k = keys[i]
        if k not in smallest or i < smallest[k]:
            smallest[k] = i
    return {i: smallest[keys[i]] for i in ids}


def pairwise_scores(predicted: Sequence[str], truth: Sequence[str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against true entity labels."""
    from collections import Counter

    def pairs(counter: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    pred_pairs = pairs(Counter(predicted))
    true_pairs = pairs(Counter(truth))
    both = pairs(Counter(zip(predicted, truth, strict=True)))
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted_pairs": pred_pairs,
            "true_pairs": true_pairs, "true_positive_pairs": both}
