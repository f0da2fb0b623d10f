# Data migration: the personal values in the data centre's JSON copies of delivered rows (quarantined rows: record,
# correction, the delivered value of each problem; links: record) were stored in clear. Encrypt them as
# jianguan.datacenter.personal now writes them (the declaration and the associated data frozen here), a chunk of
# rows at a time. Values that are tokens already are skipped, so running it again changes nothing. The fingerprints
# stay as they are: they were and are computed from the plaintext values.

from django.db import migrations

CHUNK = 2000

# personal.PERSONAL_FIELDS by library (every behaviour schema has the same one: the party code)
PERSONAL = {
    "entities": ("phone",),
    "behaviours": ("party_code",),
    "officers": ("id_number", "phone"),
}
RECORD_AAD = b"datacenter.quarantinedrow.record"
CORRECTED_AAD = b"datacenter.quarantinedrow.corrected"
ERRORS_AAD = b"datacenter.quarantinedrow.errors"
LINK_AAD = b"datacenter.entitylink.record"


def _sealed(cipher, value, aad):
    if not isinstance(value, str) or value == "" or cipher.is_token(value):
        return value
    return cipher.encrypt(value, associated_data=aad)


def _opened(cipher, value, aad):
    if isinstance(value, str) and cipher.is_token(value):
        return cipher.decrypt(value, associated_data=aad)
    return value


def _convert_values(values, names, aad, change):
    if values is None:
        return None
    return {k: (change(v, aad) if k in names else v) for k, v in values.items()}


def _convert_errors(errors, names, change):
    return [{**e, "value": change(e["value"], ERRORS_AAD)} if e.get("field") in names and "value" in e else e
            for e in (errors or [])]


def _convert(apps, change):
    """Apply ``change(value, aad)`` to every personal value of every copy, in chunks; returns the rows changed."""
    QuarantinedRow = apps.get_model("datacenter", "QuarantinedRow")
    EntityLink = apps.get_model("datacenter", "EntityLink")
    changed_rows = changed_links = 0
    last = 0
    while True:
        rows = list(QuarantinedRow.objects.filter(pk__gt=last).order_by("pk").select_related("batch__source")[:CHUNK])
        if not rows:
            break
        last = rows[-1].pk
        pending = []
        for row in rows:
            names = PERSONAL.get(row.batch.source.library, ())
            record = _convert_values(row.record, names, RECORD_AAD, change)
            corrected = _convert_values(row.corrected, names, CORRECTED_AAD, change)
            errors = _convert_errors(row.errors, names, change)
            if (record, corrected, errors) != (row.record, row.corrected, row.errors):
                row.record, row.corrected, row.errors = record, corrected, errors
                pending.append(row)
        if pending:
            QuarantinedRow.objects.bulk_update(pending, ["record", "corrected", "errors"], batch_size=CHUNK)
            changed_rows += len(pending)
    last = 0
    while True:
        links = list(EntityLink.objects.filter(pk__gt=last).order_by("pk").only("pk", "record")[:CHUNK])
        if not links:
            break
        last = links[-1].pk
        pending = []
        for link in links:
            record = _convert_values(link.record, PERSONAL["entities"], LINK_AAD, change)
            if record != link.record:
                link.record = record
                pending.append(link)
        if pending:
            EntityLink.objects.bulk_update(pending, ["record"], batch_size=CHUNK)
            changed_links += len(pending)
    return changed_rows, changed_links


def encrypt_personal_copies(apps, schema_editor=None):
    from jianguan.core.crypto import field_cipher

    cipher = field_cipher()
    return _convert(apps, lambda value, aad: _sealed(cipher, value, aad))


def decrypt_personal_copies(apps, schema_editor=None):
    from jianguan.core.crypto import field_cipher

    cipher = field_cipher()
    return _convert(apps, lambda value, aad: _opened(cipher, value, aad))


class Migration(migrations.Migration):

    dependencies = [
        ("datacenter", "0007_trim_write_indexes"),
    ]

    operations = [
        migrations.RunPython(encrypt_personal_copies, decrypt_personal_copies),
    ]
