"""``guanxi serve``: the production server (gunicorn sync workers, whitenoise static)."""

from __future__ import annotations

import multiprocessing
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Guanxi with gunicorn (collects static files first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=min(4, multiprocessing.cpu_count() * 2 + 1)
        )
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        if options["workers"] > 1:  # /metrics sums every worker's counters from files
            from guanxi.ops.metrics_multiprocess import prepare_multiprocess_dir

            prepare_multiprocess_dir()
        # Only now: whitenoise lists STATIC_ROOT when the application is built, so building it
        # before the first collectstatic would serve no hashed file (unstyled first start).
        from guanxi.wsgi import application

        class GuanxiServer(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", f"{options['host']}:{options['port']}")
                self.cfg.set("workers", options["workers"])
                self.cfg.set("worker_class", "sync")
                self.cfg.set("timeout", options["timeout"])
                self.cfg.set("accesslog", "-")
                self.cfg.set("forwarded_allow_ips", "127.0.0.1")
                if options["workers"] > 1:
                    from guanxi.ops.metrics_multiprocess import child_exit

                    self.cfg.set("child_exit", child_exit)

            def load(self) -> Any:
                return application

        self.stdout.write(
            f"Guanxi on http://{options['host']}:{options['port']} ({options['workers']} workers)"
        )
        GuanxiServer().run()
