"""The assistance classifier: suggests a ticket's category and responsible department kind from its text.

Chinese text is segmented with jieba; TF-IDF over the words (plus character bigrams, robust to segmentation errors)
feeds two multinomial logistic regressions, whose probabilities give the confidence shown to the handler. Labelled
data are the registered tickets (their confirmed category; the department kind of the unit that handled them);
handlers' corrections are kept (``ClassificationFeedback``) and count three times in retraining.

A trained model is a versioned artifact under ``VAR_DIR/complaints/classifier/`` (pickle, verified by its SHA-256
recorded in ``ClassifierModel`` before loading) plus a database row with its held-out accuracy.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

CORRECTION_WEIGHT = 3
_lock = threading.Lock()
_loaded: dict[str, Any] = {"version": None, "model": None}


def _tokenize(text: str) -> list[str]:
    import jieba

    words = [w for w in jieba.lcut(text) if w.strip() and not _is_punct(w)]
    compact = "".join(ch for ch in text if not _is_punct(ch) and not ch.isspace())
    return words + [compact[i : i + 2] for i in range(len(compact) - 1)]


def _is_punct(token: str) -> bool:
    return all(not ch.isalnum() for ch in token)


def _quiet_jieba() -> None:
    import jieba

    jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class Suggestion:
    category_code: str
    confidence: float
    department_kind: str | None
    department_confidence: float
    model_version: int
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class TrainResult:
    version: int
    trained_on: int
    held_out: int
    category_accuracy: float
    department_accuracy: float
    corrections_used: int
    path: Path


class TooLittleData(ValueError):
    pass


def artifact_dir() -> Path:
    return Path(settings.VAR_DIR) / "complaints" / "classifier"


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(tokenizer=_tokenize, lowercase=False, token_pattern=None, min_df=2,
                                 sublinear_tf=True, max_features=60_000)
    return vectorizer, LogisticRegression(max_iter=300, C=4.0), LogisticRegression(max_iter=300, C=4.0)


def training_rows() -> tuple[list[tuple[str, str, str | None, int]], int]:
    """(text, category code, department kind code, weight) for every registered ticket with a confirmed category,
    plus the number of corrections among them."""
    from jianguan.complaints.choices import ComplaintStatus
    from jianguan.complaints.models import ClassificationFeedback, Complaint

    corrected = set(ClassificationFeedback.objects.values_list("complaint_id", flat=True))
    rows: list[tuple[str, str, str | None, int]] = []
    queryset = (
        Complaint.objects.filter(category__isnull=False)
        .exclude(status__in=(ComplaintStatus.RECEIVED, ComplaintStatus.INVALID))
        .values_list("pk", "title", "content", "category__code", "handling_org__kind_id",
                     "category__department_kind_id")
        .order_by("pk")
    )
    for pk, title, content, code, org_kind, category_kind in queryset.iterator(chunk_size=5000):
        weight = CORRECTION_WEIGHT if pk in corrected else 1
        rows.append((f"{title}。{content}", code, org_kind or category_kind, weight))
    return rows, len(corrected)


def train(*, seed: int = 20190222, held_out_share: float = 0.2, rows: Iterable[tuple[str, str, str | None, int]]
          | None = None, activate: bool = True) -> TrainResult:
    """Fit on the labelled tickets, measure accuracy on a held-out share, store the artifact and its row."""
    from jianguan.complaints.models import ClassifierModel

    _quiet_jieba()
    corrections = 0
    if rows is None:
        data, corrections = training_rows()
    else:
        data = list(rows)
    if len(data) < 20 or len({r[1] for r in data}) < 2:
        raise TooLittleData("至少需要 20 件已确定分类、且分属两个以上分类的工单才能训练。")
    rng = random.Random(seed)
    order = list(range(len(data)))
    rng.shuffle(order)
    cut = max(1, int(len(order) * held_out_share))
    test_idx, train_idx = order[:cut], order[cut:]
    vectorizer, cat_model, dept_model = _pipeline()
    texts = [data[i][0] for i in train_idx]
    weights = [data[i][3] for i in train_idx]
    matrix = vectorizer.fit_transform(texts)
    cat_model.fit(matrix, [data[i][1] for i in train_idx], sample_weight=weights)
    dept_rows = [(k, i) for k, i in enumerate(train_idx) if data[i][2]]
    dept_ok = len({data[i][2] for _k, i in dept_rows}) >= 2
    if dept_ok:
        dept_model.fit(matrix[[k for k, _i in dept_rows]], [data[i][2] for _k, i in dept_rows],
                       sample_weight=[data[i][3] for _k, i in dept_rows])
    test_matrix = vectorizer.transform([data[i][0] for i in test_idx])
    predicted = cat_model.predict(test_matrix)
    cat_acc = sum(p == data[i][1] for p, i in zip(predicted, test_idx, strict=True)) / len(test_idx)
    dept_acc = 0.0
    if dept_ok:
        with_dept = [(k, i) for k, i in enumerate(test_idx) if data[i][2]]
        if with_dept:
            dept_pred = dept_model.predict(test_matrix[[k for k, _i in with_dept]])
            dept_acc = sum(p == data[i][2] for p, (_k, i) in zip(dept_pred, with_dept, strict=True)) / len(with_dept)
    with transaction.atomic():
        last = ClassifierModel.objects.order_by("-version").values_list("version", flat=True).first() or 0
        version = last + 1
        directory = artifact_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"classifier-v{version}.pkl"
        blob = pickle.dumps({"version": version, "vectorizer": vectorizer, "category": cat_model,
                             "department": dept_model if dept_ok else None})
        path.write_bytes(blob)
        if activate:
            ClassifierModel.objects.filter(active=True).update(active=False)
        ClassifierModel.objects.create(
            version=version, path=str(path), sha256=hashlib.sha256(blob).hexdigest(), trained_on=len(train_idx),
            held_out=len(test_idx), category_accuracy=round(cat_acc, 4), department_accuracy=round(dept_acc, 4),
            corrections_used=corrections, active=activate,
        )
    reset()
    return TrainResult(version, len(train_idx), len(test_idx), cat_acc, dept_acc, corrections, path)


def reset() -> None:
    with _lock:
        _loaded["version"] = None
        _loaded["model"] = None


def _active_model() -> dict[str, Any] | None:
    from jianguan.complaints.models import ClassifierModel

    row = ClassifierModel.objects.filter(active=True).order_by("-version").first()
    if row is None:
        return None
    with _lock:
        if _loaded["version"] == row.version:
            return _loaded["model"]  # type: ignore[no-any-return]
        try:
            blob = Path(row.path).read_bytes()
        except OSError:
            logger.warning("classifier artifact %s is missing", row.path)
            return None
        if hashlib.sha256(blob).hexdigest() != row.sha256:
            logger.error("classifier artifact %s does not match its recorded hash; not loaded", row.path)
            return None
        _quiet_jieba()
        model = pickle.loads(blob)  # noqa: S301 - our own artifact, verified against the hash recorded at training
        _loaded["version"] = row.version
        _loaded["model"] = model
        return model  # type: ignore[no-any-return]


def suggest(text: str) -> Suggestion | None:
    """The suggested category and department kind for ``text``, or None when no model has been trained."""
    return suggest_many([text])[0]


def suggest_many(texts: list[str]) -> list[Suggestion | None]:
    """``suggest`` for several texts in one pass of the model (one matrix for the batch)."""
    model = _active_model()
    if model is None:
        return [None] * len(texts)
    present = [i for i, text in enumerate(texts) if text.strip()]
    results: list[Suggestion | None] = [None] * len(texts)
    if not present:
        return results
    features = model["vectorizer"].transform([texts[i] for i in present])
    probs = model["category"].predict_proba(features)
    classes = model["category"].classes_
    dprobs = model["department"].predict_proba(features) if model.get("department") is not None else None
    for row, index in enumerate(present):
        ranked = sorted(zip(classes, probs[row], strict=True), key=lambda item: -item[1])
        dept, dept_conf = None, 0.0
        if dprobs is not None:
            best = max(range(len(dprobs[row])), key=lambda i: dprobs[row][i])
            dept, dept_conf = str(model["department"].classes_[best]), float(dprobs[row][best])
        results[index] = Suggestion(
            category_code=str(ranked[0][0]), confidence=float(ranked[0][1]), department_kind=dept,
            department_confidence=dept_conf, model_version=int(model["version"]),
            alternatives=tuple((str(c), float(p)) for c, p in ranked[1:4]),
        )
    return results
