"""监管知识库 full-text search in Chinese: documents are cut into words with jieba and indexed in
``KnowledgeTerm`` (portable across SQLite and PostgreSQL); a query is cut the same way and documents are ranked by
how many of its words they contain, then by tf-idf, with words in the title counting double."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet

from jianguan.datacenter.models import KnowledgeDocument, KnowledgeTerm

_WORD = re.compile(r"[\u4e00-\u9fa5]{2,}|[A-Za-z0-9]{2,}")
_STOP = {"的", "和", "与", "或", "及", "等", "对", "在", "是", "为", "由", "应当", "可以", "规定", "本法", "条例"}


def terms(text: str) -> list[str]:
    """Search terms of a text: jieba's search-mode words of two or more characters (and Latin words, codes)."""
    import jieba

    out = []
    for word in jieba.cut_for_search(text or ""):
        word = word.strip().lower()
        if len(word) >= 2 and _WORD.fullmatch(word) and word not in _STOP:
            out.append(word[:40])
    return out


@transaction.atomic
def reindex(documents: Iterable[KnowledgeDocument]) -> int:
    """Rebuild the index rows of these documents (bulk)."""
    documents = list(documents)
    KnowledgeTerm.objects.filter(document__in=documents).delete()
    rows: list[KnowledgeTerm] = []
    for doc in documents:
        title_terms = set(terms(doc.title))
        counts = Counter(terms(doc.title) + terms(doc.body))
        rows.extend(KnowledgeTerm(document=doc, term=t, count=n, in_title=t in title_terms) for t, n in counts.items())
    KnowledgeTerm.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def search(queryset: QuerySet[KnowledgeDocument], query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Documents of ``queryset`` (already scoped) matching ``query``, best first, with a short excerpt."""
    words = list(dict.fromkeys(terms(query)))
    if not words:
        return []
    total = max(queryset.count(), 1)
    df = dict(KnowledgeTerm.objects.filter(term__in=words, document__in=queryset).values_list("term")
              .annotate(n=Count("document", distinct=True)).values_list("term", "n"))
    scores: dict[int, list[float]] = {}
    for doc_id, term, count, in_title in KnowledgeTerm.objects.filter(term__in=words, document__in=queryset) \
            .values_list("document_id", "term", "count", "in_title"):
        idf = math.log(1 + total / (1 + df.get(term, 0)))
        entry = scores.setdefault(doc_id, [0.0, 0.0])
        entry[0] += 1
        entry[1] += (1 + math.log(count)) * idf * (2 if in_title else 1)
    ranked = sorted(scores.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))[:limit]
    docs = queryset.in_bulk([doc_id for doc_id, _s in ranked])
    out = []
    for doc_id, (matched, score) in ranked:
        doc = docs[doc_id]
        out.append({"id": doc.pk, "doc_no": doc.doc_no, "kind": doc.kind, "title": doc.title, "status": doc.status,
                    "matched": int(matched), "of": len(words), "score": round(score, 3),
                    "excerpt": _excerpt(doc.body, words)})
    return out


def _excerpt(body: str, words: list[str], width: int = 60) -> str:
    lowered = body.lower()
    positions = [lowered.find(w) for w in words if lowered.find(w) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    return body[start:start + width].replace("\n", " ")
