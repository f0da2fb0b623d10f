"""Training the shipped default model on generated data (``jianguan datacenter train_model``).

The pipeline links the rows of a batch that lack a credit code; a batch rarely carries enough credit-code pairs to
train on, so it falls back to this model. It is trained exactly like a model trained on real input (see
:mod:`jianguan.datacenter.linkage.model`), on records from :mod:`jianguan.datacenter.linkage.synthetic`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from jianguan.datacenter.linkage import model as lm
from jianguan.datacenter.linkage.features import features_sql
from jianguan.datacenter.linkage.resolve import load_input
from jianguan.datacenter.linkage.synthetic import write_labelled_csv
from jianguan.datacenter.pipeline.engines import DuckDBEngine
from jianguan.datacenter.pipeline.reference import ReferenceData

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "default_model.json"


def train_default_model(ref: ReferenceData, *, records: int = 200_000, seed: int = 7,
                        path: Path = DEFAULT_MODEL_PATH) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jianguan-train-") as tmp:
        work = Path(tmp)
        csv_path = work / "train.csv"
        write_labelled_csv(csv_path, records, seed=seed)
        with DuckDBEngine() as engine:
            for name, table in ref.tables().items():
                engine.register_arrow(name, table)
            load_input(engine, csv_path, work / "work", None)
            engine.create_table("lk_features", features_sql(engine.dialect, ref, "lk_input"))
            trained = lm.train(engine, "lk_features")
    data = {"settings": trained.settings, "threshold": trained.threshold,
            "stats": {**trained.stats, "trained_on": f"synthetic records={records} seed={seed}"}}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return data
