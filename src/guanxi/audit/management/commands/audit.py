"""``guanxi audit verify [--json]``: check the audit log's hash chain (see docs/audit.md).

Read-only: it writes nothing, so it can run against a replica or a restored backup. Exit
status 0 when the chain is intact, 1 when an entry was edited, inserted or deleted.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Audit log tools. `verify`: walk the hash chain and name the first tampered entry."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="verify the audit hash chain")
        verify.add_argument("--json", action="store_true", help="print one JSON object")
        verify.add_argument("--batch-size", type=int, default=2000)
        verify.add_argument(
            "--quiet", action="store_true", help="no progress lines (text mode only)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.audit.verify import verify_chain

        as_json = options["json"]
        show_progress = not as_json and not options["quiet"]

        def progress(checked: int, elapsed: float) -> None:
            if checked % 100_000 == 0:
                rate = checked / elapsed if elapsed else 0
                self.stderr.write(f"  {checked:,} entries, {rate:,.0f} entries/s")

        result = verify_chain(
            batch_size=max(1, options["batch_size"]),
            progress=progress if show_progress else None,
        )
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(self._text(result))
        if not result.ok:
            raise CommandError(f"audit chain broken: {result.problem} #{result.entry_id}")

    def _text(self, result: Any) -> str:
        speed = (
            f"{result.checked:,} entries in {result.elapsed:.2f} s ({result.rate:,.0f} entries/s)"
        )
        if result.ok:
            return (
                f"OK: {result.message}\n{speed}\n"
                f"last entry #{result.last_id or 0} hash {result.last_hash or '-'}"
            )
        lines = [
            f"FAILED: {result.problem} at entry #{result.entry_id}",
            str(result.message),
            f"checked before the failure: {speed}",
        ]
        lines += [f"{key}: {value}" for key, value in result.details.items()]
        return "\n".join(lines)
