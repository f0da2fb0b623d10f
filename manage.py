#!/usr/bin/env python
"""Django's manage.py; the installed ``jianguan`` command does the same."""

from jianguan.cli import main

if __name__ == "__main__":
    main()
