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
LIBRARIES = (
    "datacenter.view_catalogentry", "datacenter.view_implementationentry", "datacenter.view_administrativelicense",
    "datacenter.view_administrativeinspection", "datacenter.view_administrativepenalty",
    "datacenter.view_administrativecoercion", "datacenter.view_complaintrecord", "datacenter.view_creditrecord",
    "datacenter.view_internetrecord", "datacenter.view_knowledgedocument",
)
WORK_LIBRARIES = (  # what inspectors consult in their work
    "datacenter.view_catalogentry", "datacenter.view_administrativeinspection", "datacenter.view_administrativepenalty",
    "datacenter.view_creditrecord", "datacenter.view_knowledgedocument",
)
API_CLIENT = ("datacenter.view_source", "datacenter.ingest_source", "datacenter.view_batch")


def register() -> None:
    register_role_permissions("data_admin", (*DATA_ADMIN, *LIBRARIES))
    register_role_permissions("leader", (*READERS, *LIBRARIES))
    register_role_permissions("inspector", WORK_LIBRARIES)
    register_role_permissions("complaint_handler", ("datacenter.view_complaintrecord",
                                                    "datacenter.view_knowledgedocument"))
    register_role_permissions("api_client", API_CLIENT)
