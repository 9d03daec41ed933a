"""``guanxi export customers|contacts|follow-ups|follow-ups-due --format xlsx|csv|json|xml|pdf
[filters] [--as USERNAME] -o FILE``.

Runs the same export as the list page's 导出 menu (scope, masking, audit) for a user: the
one given with ``--as``, else the first active admin. No row cap (but a PDF's own,
GUANXI_EXPORT_PDF_MAX_ROWS): the file is written row by row. Filters take the list's
parameter names: ``--status cooperating --province 广东省``, ``--customer-id 12``, and any
other one (custom fields too) with ``--filter cf_level=a``.
"""

from __future__ import annotations

import shutil
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from guanxi.core.errors import DomainError
from guanxi.dataio.exporters import FORMATS

OBJECTS = ("customers", "contacts", "follow-ups", "follow-ups-due")
FILTER_OPTIONS = (
    "q",
    "status",
    "category",
    "industry",
    "source",
    "province",
    "city",
    "owner_id",
    "tag",
    "created_from",
    "created_to",
    "customer_id",
    "due_before",
)


def exporting_user(username: str | None) -> Any:
    from guanxi.accounts.models import User

    people = User.objects.filter(is_active=True)
    if username:
        user = people.filter(username=username).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        return user
    admin = people.filter(Q(roles__code="admin") | Q(is_superuser=True)).order_by("pk").first()
    if admin is None:
        raise CommandError("no active admin: name the exporting user with --as")
    return admin


class Command(BaseCommand):
    help = "Export a list (as a user: their scope and masking apply; audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("object", choices=OBJECTS)
        parser.add_argument("--format", default="xlsx", choices=FORMATS)
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--as", dest="username", help="export as this user")
        for name in FILTER_OPTIONS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
        parser.add_argument(
            "--filter", action="append", default=[], metavar="NAME=VALUE", help="any list filter"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.audit.services import RequestMeta
        from guanxi.dataio.export_service import export_run

        params = {n: options[n] for n in FILTER_OPTIONS if options.get(n)}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--filter takes NAME=VALUE, not {item!r}")
            params[name.strip()] = value
        user = exporting_user(options["username"])
        try:
            result = export_run(
                actor=user,
                kind=options["object"],
                params=params,
                fmt=options["format"],
                meta=RequestMeta(user_agent="guanxi export"),
                cap=None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except DomainError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        with result.file, open(options["output"], "wb") as out:
            shutil.copyfileobj(result.file, out)
        what = options["object"].replace("-", " ")
        self.stdout.write(f"exported {result.rows} row(s) of {what} to {options['output']}")
