"""The ``guanxi`` command: every Django management command, plus serve/demo and friends."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else ["guanxi", *argv])
    if len(argv) > 1 and argv[1] == "serve":
        # Hashed, compressed static files for the production server (collected by serve).
        os.environ.setdefault("GUANXI_MANIFEST_STATIC", "1")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
