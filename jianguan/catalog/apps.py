"""监管事项目录清单: supervision items, implementation lists, versions, publication, national alignment."""
from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

REFERENCE = ("core.view_region", "core.view_organization")
VIEW = ("catalog.view_supervisionitem", "catalog.view_legalbasis", "catalog.view_implementationitem")

EDITOR_PERMISSIONS = (
    *REFERENCE,
    *VIEW,
    "catalog.add_supervisionitem",
    "catalog.change_supervisionitem",
    "catalog.import_supervisionitem",
    "catalog.export_supervisionitem",
    "catalog.map_supervisionitem",
    "catalog.add_legalbasis",
    "catalog.change_legalbasis",
    "catalog.add_implementationitem",
    "catalog.change_implementationitem",
    "catalog.view_importbatch",
    "catalog.view_nationalitem",
    "catalog.view_nationalmapping",
)
REVIEWER_PERMISSIONS = (
    *REFERENCE,
    *VIEW,
    "catalog.review_supervisionitem",
    "catalog.publish_supervisionitem",
    "catalog.abolish_supervisionitem",
    "catalog.export_supervisionitem",
    "catalog.map_supervisionitem",
    "catalog.view_importbatch",
    "catalog.view_nationalitem",
    "catalog.view_nationalmapping",
)


class CatalogConfig(AppConfig):
    """The supervision item catalogue (监管事项目录清单)."""

    name = "jianguan.catalog"
    label = "catalog"
    verbose_name = _("Supervision item catalogue")

    def ready(self) -> None:
        from jianguan.core.roles import RoleDefinition, register_role, register_role_permissions

        register_role(RoleDefinition(
            "catalog_editor",
            "目录编辑员",
            "编制本部门监管事项与检查实施清单，提交审核，导入导出，对应国家目录",
            EDITOR_PERMISSIONS,
        ))
        register_role(RoleDefinition(
            "catalog_reviewer",
            "目录审核员",
            "审核、发布、废止全省监管事项，构建向国家系统推送的数据包",
            REVIEWER_PERMISSIONS,
            all_departments=True,
        ))
        for role in ("inspector", "leader", "complaint_handler", "data_admin", "dept_admin", "api_client"):
            register_role_permissions(role, VIEW)

        from jianguan.catalog import demo, navigation_entries
        from jianguan.core.demo import register_demo_step

        navigation_entries.register()
        register_demo_step("catalog", demo.build_catalog)
