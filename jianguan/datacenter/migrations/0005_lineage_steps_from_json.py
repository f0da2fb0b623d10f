# Data migration: lineage written before 0004 keeps its field → step-mask map as JSON; copy it into the compact
# positional text (the same encoding as jianguan.datacenter.pipeline.fields.encode_field_steps, frozen here).

from django.db import migrations

LINEAGE_FIELDS = (
    "name", "subject_type", "legal_representative", "address", "region", "industry", "registered_capital",
    "established_on", "status", "uscc",
)

STEP_CODES = (
    "extract", "encoding", "width", "space", "null", "case", "date", "money", "region_code", "region_name",
    "region_address", "region_uscc", "address_completed", "industry_code", "industry_name", "type_map", "type_uscc",
    "type_name", "status_map", "phone", "dedup", "survivor", "fill", "correction", "manual",
)


def _encode(fields):
    slots = [""] * len(LINEAGE_FIELDS)
    for name, mask in (fields or {}).items():
        if name in LINEAGE_FIELDS:
            if isinstance(mask, str):  # the oldest records listed step codes, comma-separated
                mask = sum(1 << STEP_CODES.index(c) for c in mask.split(",") if c in STEP_CODES)
            slots[LINEAGE_FIELDS.index(name)] = str(int(mask))
    return ",".join(slots).rstrip(",")


def forwards(apps, schema_editor):
    LineageRecord = apps.get_model("datacenter", "LineageRecord")
    pending = []
    for record in LineageRecord.objects.only("id", "fields").iterator(chunk_size=5000):
        record.field_steps = _encode(record.fields)
        pending.append(record)
        if len(pending) >= 5000:
            LineageRecord.objects.bulk_update(pending, ["field_steps"])
            pending = []
    if pending:
        LineageRecord.objects.bulk_update(pending, ["field_steps"])


def backwards(apps, schema_editor):
    LineageRecord = apps.get_model("datacenter", "LineageRecord")
    pending = []
    for record in LineageRecord.objects.only("id", "field_steps").iterator(chunk_size=5000):
        record.fields = {LINEAGE_FIELDS[i]: int(m) for i, m in enumerate((record.field_steps or "").split(","))
                         if m != ""}
        pending.append(record)
        if len(pending) >= 5000:
            LineageRecord.objects.bulk_update(pending, ["fields"])
            pending = []
    if pending:
        LineageRecord.objects.bulk_update(pending, ["fields"])


class Migration(migrations.Migration):

    dependencies = [
        ('datacenter', '0004_lineage_compact_steps'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
