from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatacenterConfig(AppConfig):
    """The regulatory data centre (监管数据中心)."""

    name = "jianguan.datacenter"
    label = "datacenter"
    verbose_name = _("Regulatory data centre")

    def ready(self) -> None:
        from jianguan.core.jobs import register_job
        from jianguan.datacenter import roles, services

        roles.register()
        register_job(services.INGEST_JOB, services.run_ingest_job, label=_("Process a data-centre batch"),
                     permission="datacenter.ingest_source")
        from jianguan.datacenter import handlers, navigation_entries

        handlers.register()
        navigation_entries.register()

        from jianguan.core.keyring import register_rotation
        from jianguan.datacenter.personal import reencrypt_records, refingerprint_rows
        from jianguan.datacenter.store import reseal_store

        register_rotation("datacenter.personal_copies", reencrypt_records)
        register_rotation("datacenter.row_fingerprints", refingerprint_rows)
        register_rotation("datacenter.batch_store", reseal_store)
