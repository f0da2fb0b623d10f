"""Load the shipped category tree and the default dispatch catalogue (派单目录); officials maintain both afterwards."""

from django.db import migrations


def load(apps, schema_editor):
    from jianguan.complaints import reference

    reference.load_categories(apps=apps)
    reference.load_dispatch_catalogue(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial"), ("core", "0002_load_reference_data")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
