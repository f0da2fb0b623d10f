"""Events the data centre publishes (its public contract). Payloads carry ids and codes only."""

from __future__ import annotations

from dataclasses import dataclass

BATCH_LOADED = "datacenter.batch_loaded"


@dataclass(frozen=True)
class BatchLoaded:
    """A batch was integrated into its library (master records created or changed in bulk)."""

    batch_id: int
    source_code: str
    library: str
    rows: int
    created: int
    updated: int
    quarantined: int
