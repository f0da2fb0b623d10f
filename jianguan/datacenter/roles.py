"""Which built-in roles get which data-centre permissions (registered from ``DatacenterConfig.ready``)."""

from __future__ import annotations

from jianguan.core.roles import register_role_permissions

DATA_ADMIN = (
    "datacenter.view_source", "datacenter.add_source", "datacenter.change_source", "datacenter.ingest_source",
    "datacenter.view_batch", "datacenter.view_quarantinedrow", "datacenter.change_quarantinedrow",
    "datacenter.view_lineagerecord", "datacenter.view_entitylink", "datacenter.change_entitylink",
    "datacenter.view_conflict", "datacenter.change_conflict",
)
READERS = (
    "datacenter.view_source", "datacenter.view_batch", "datacenter.view_quarantinedrow",
    "datacenter.view_lineagerecord", "datacenter.view_entitylink", "datacenter.view_conflict",
)
API_CLIENT = ("datacenter.view_source", "datacenter.ingest_source", "datacenter.view_batch")


def register() -> None:
    register_role_permissions("data_admin", DATA_ADMIN)
    register_role_permissions("leader", READERS)
    register_role_permissions("api_client", API_CLIENT)
