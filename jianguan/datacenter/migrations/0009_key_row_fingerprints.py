# Data migration: the fingerprints of quarantined rows and links (which recognise a row delivered again) were an
# unkeyed SHA-256 of the row's plaintext values with the source id; anyone holding the table and a row's other (clear)
# values could test guessed phone numbers against it. Recompute each under the key in force when this runs, as
# jianguan.datacenter.pipeline.runner.fingerprint now computes it: HMAC-SHA256 of the same JSON under a secret derived
# from the blind-index key (the label and formula frozen here, with the decryption of the stored record as 0008 does
# it). Rows without a fingerprint (record libraries) are left alone; a row whose record does not decrypt keeps its
# fingerprint and is counted. Running it again changes nothing; the reverse puts the unkeyed fingerprints back.

import hashlib
import hmac
import json

from django.db import migrations

CHUNK = 2000
RECORD_AAD = b"datacenter.quarantinedrow.record"
LINK_AAD = b"datacenter.entitylink.record"
FINGERPRINT_LABEL = "datacenter:row-fingerprint"  # conf.fingerprint_key()


def _message(source_id, values):
    return json.dumps([source_id, values], ensure_ascii=False, sort_keys=True, default=str).encode()


def _keyed(key):
    return lambda source_id, values: hmac.new(key.encode(), _message(source_id, values), hashlib.sha256).hexdigest()


def _unkeyed(source_id, values):
    return hashlib.sha256(_message(source_id, values)).hexdigest()


def _opened(cipher, values, aad):
    return {k: (cipher.decrypt(v, associated_data=aad) if isinstance(v, str) and cipher.is_token(v) else v)
            for k, v in (values or {}).items()}


def _convert(apps, compute):
    """Set each stored fingerprint to ``compute(source_id, decrypted record)``, in chunks; returns the rows changed per
    model and those whose record does not decrypt (left as they are)."""
    from jianguan.core.crypto import field_cipher
    from jianguan.lib.crypto import CryptoError

    cipher = field_cipher()
    counts = {"quarantined_rows": 0, "links": 0, "unreadable": 0}
    for model, aad, label in ((apps.get_model("datacenter", "QuarantinedRow"), RECORD_AAD, "quarantined_rows"),
                              (apps.get_model("datacenter", "EntityLink"), LINK_AAD, "links")):
        last = 0
        while True:
            rows = list(model.objects.filter(pk__gt=last).exclude(fingerprint="").order_by("pk")
                        .values_list("pk", "record", "fingerprint", "batch__source_id")[:CHUNK])
            if not rows:
                break
            last = rows[-1][0]
            pending = []
            for pk, record, stored, source_id in rows:
                try:
                    values = _opened(cipher, record, aad)
                except CryptoError:
                    counts["unreadable"] += 1
                    continue
                new = compute(source_id, values)
                if new != stored:
                    pending.append(model(pk=pk, fingerprint=new))
            if pending:
                model.objects.bulk_update(pending, ["fingerprint"], batch_size=CHUNK)
                counts[label] += len(pending)
    return counts


def key_fingerprints(apps, schema_editor=None):
    from jianguan.core.crypto import field_cipher

    return _convert(apps, _keyed(field_cipher().blind_index(FINGERPRINT_LABEL)))


def unkey_fingerprints(apps, schema_editor=None):
    return _convert(apps, _unkeyed)


class Migration(migrations.Migration):

    dependencies = [
        ("datacenter", "0008_encrypt_personal_copies"),
    ]

    operations = [
        migrations.RunPython(key_fingerprints, unkey_fingerprints),
    ]
