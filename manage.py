#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["makemigrations"]:
        # It compares models with migrations and signs nothing: it runs (CI's
        # `makemigrations --check` included) without the production secret the settings
        # otherwise require when DEBUG is off.
        os.environ.setdefault("SECRET_KEY", "makemigrations-signs-nothing")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
