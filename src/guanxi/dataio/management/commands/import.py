"""``guanxi import customers FILE [--dry-run] [--dedupe skip|update|create] [--mapping NAME]
[--as USERNAME] [--json]``, plus ``--resume ID`` / ``--restart ID`` for a stopped import.

The same engine as the web import (validation, duplicates, scope, audit), run in this
process instead of the worker. Columns are mapped from their headers (or a saved mapping);
a file whose required columns cannot be recognised is refused with the mapping it found.
With ``--json`` the last line is ``{"rows", "created", "updated", "skipped", "errors",
"batch_id", "seconds"}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.errors import DomainError
from guanxi.dataio.management.commands.export import exporting_user

OBJECTS = {"customers": "customer", "contacts": "contact", "follow-ups": "follow_up"}


class Command(BaseCommand):
    help = "Import customers, contacts or follow-ups from a CSV or XLSX file (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("object", choices=sorted(OBJECTS))
        parser.add_argument("file", nargs="?", help="CSV or XLSX file")
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument("--dedupe", choices=("skip", "update", "create"), default="skip")
        parser.add_argument("--mapping", help="a saved column mapping (by name)")
        parser.add_argument("--as", dest="username", help="import as this user")
        parser.add_argument("--json", action="store_true", help="print a JSON summary last")
        parser.add_argument("--resume", type=int, metavar="ID", help="continue a stopped import")
        parser.add_argument(
            "--restart", type=int, metavar="ID", help="undo and rerun a stopped import"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.audit.services import RequestMeta

        user = exporting_user(options["username"])
        meta = RequestMeta(user_agent="guanxi import")
        started = time.perf_counter()
        try:
            if options["resume"] or options["restart"]:
                batch = self._continue(user, meta, options)
            else:
                batch = self._new(user, meta, options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except DomainError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        self._report(batch, options, time.perf_counter() - started)

    def _new(self, user: Any, meta: Any, options: dict[str, Any]) -> Any:
        from guanxi.dataio import engine, import_services
        from guanxi.dataio.readers import UploadRejected

        if not options["file"]:
            raise CommandError("name the FILE to import")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            batch = import_services.import_upload(
                actor=user,
                object_type=OBJECTS[options["object"]],
                source=path,
                file_name=path.name,
                mapping_name=options["mapping"],
                meta=meta,
            )
        except UploadRejected as exc:
            raise CommandError(str(exc.message)) from exc
        try:
            import_services.import_configure(
                actor=user,
                batch=batch,
                mapping_data=batch.mapping,
                dedupe=options["dedupe"],
                meta=meta,
            )
        except ValidationError as exc:
            found = {batch.headers[int(i)]: f for i, f in batch.mapping.items()}
            raise CommandError(f"{'; '.join(exc.messages)} (recognised columns: {found})") from exc
        if options["dry_run"]:
            return engine.validate_batch(batch.pk, on_progress=self._progress)
        import_services.import_start(actor=user, batch=batch, meta=meta, queue=False)
        return engine.run_batch(batch.pk, on_chunk=self._progress)

    def _continue(self, user: Any, meta: Any, options: dict[str, Any]) -> Any:
        from guanxi.dataio import engine, import_services
        from guanxi.dataio.models import ImportBatch

        batch_id = options["resume"] or options["restart"]
        batch = ImportBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"no import batch {batch_id}")
        service = (
            import_services.import_resume if options["resume"] else import_services.import_restart
        )
        service(actor=user, batch=batch, meta=meta, queue=False)
        return engine.run_batch(batch.pk, on_chunk=self._progress)

    def _progress(self, batch: Any) -> None:
        total = f"/{batch.total_rows}" if batch.total_rows else ""
        sys.stderr.write(f"  {batch.rows_done}{total} rows\n")

    def _report(self, batch: Any, options: dict[str, Any], seconds: float) -> None:
        if options["dry_run"]:
            counts = batch.dry_run
            summary = {
                "rows": counts.get("rows", 0),
                "created": counts.get("create", 0),
                "updated": counts.get("update", 0),
                "skipped": counts.get("skip", 0),
                "errors": counts.get("errors", 0),
            }
        else:
            summary = {
                "rows": batch.rows_done,
                "created": batch.created_count,
                "updated": batch.updated_count,
                "skipped": batch.skipped_count,
                "errors": batch.error_count,
            }
        summary |= {"batch_id": batch.pk, "seconds": round(seconds, 2)}
        verb = "checked" if options["dry_run"] else "imported"
        self.stdout.write(
            f"{verb} {summary['rows']} row(s): {summary['created']} new, {summary['updated']} "
            f"updated, {summary['skipped']} skipped, {summary['errors']} with errors "
            f"(batch {batch.pk}, status {batch.status})"
        )
        if batch.failure:
            self.stderr.write(batch.failure)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
