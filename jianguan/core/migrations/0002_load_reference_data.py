"""Load the shipped reference data: Jiangsu's divisions (GB/T 2260, end-2023 edition), department kinds and the
GB/T 4754-2017 industry classification. Later editions are loaded with ``jianguan load_reference``."""

from django.db import migrations


def load(apps, schema_editor):
    from jianguan.core import reference

    reference.load_regions(apps=apps, edition="2023")
    reference.load_department_kinds(apps=apps)
    reference.load_industries(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
