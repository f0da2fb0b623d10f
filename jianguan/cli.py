"""The ``jianguan`` console command: Django's management commands with the project's settings.

A bad or missing setting stops start-up with one line on stderr and exit status 2, not a traceback.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured

    argv = list(sys.argv if argv is None else argv)
    for index, arg in enumerate(argv):  # honour --settings before Django is set up
        if arg.startswith("--settings="):
            os.environ["DJANGO_SETTINGS_MODULE"] = arg.split("=", 1)[1]
        elif arg == "--settings" and index + 1 < len(argv):
            os.environ["DJANGO_SETTINGS_MODULE"] = argv[index + 1]
    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"jianguan: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jianguan", *argv[1:]])


if __name__ == "__main__":
    main()
