"""``guanxi worker``: the background worker (huey consumer) with the periodic jobs.

Loads every app's ``tasks.py``, then runs the consumer: queued tasks and the crontab
schedules (in ``TIME_ZONE``). Storage is SqliteHuey (``GUANXI_DATA_DIR/huey.sqlite3``) unless
``REDIS_URL`` is set. Several workers (on one or more machines) may run at once: jobs guard
themselves with database constraints and row locks, never with in-process state.
Stop with Ctrl-C or SIGINT (finishes running jobs) or SIGTERM (stops at once).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

logger = logging.getLogger("guanxi.worker")


class Command(BaseCommand):
    help = "Run the background worker: queued tasks and periodic jobs (reminders, digest ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")
        parser.add_argument(
            "--worker-type", choices=["thread", "process"], default="thread", dest="worker_type"
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="only run queued tasks (let another worker run the schedules)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils.module_loading import autodiscover_modules
        from huey.consumer_options import ConsumerConfig
        from huey.contrib.djhuey import HUEY

        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        if HUEY.immediate:
            raise CommandError(
                "GUANXI_WORKER_IMMEDIATE is on: tasks run inline, there is nothing to consume"
            )
        autodiscover_modules("tasks")
        config = ConsumerConfig(
            workers=options["workers"],
            worker_type=options["worker_type"],
            periodic=not options["no_periodic"],
        )
        config.validate()
        huey_logger = logging.getLogger("huey")
        if not huey_logger.handlers and not logging.getLogger().handlers:
            config.setup_logger(huey_logger)
        from guanxi.ops.schedule import registered_jobs

        # The scheduled jobs run from the ops tick on their 定时任务 schedule (ops.scheduler).
        jobs = sorted(
            {task.name for task in HUEY._registry.periodic_tasks} | set(registered_jobs())
        )
        logger.info(
            "guanxi worker starting: %s, %s %s worker(s), periodic jobs: %s",
            type(HUEY).__name__,
            options["workers"],
            options["worker_type"],
            ", ".join(jobs) if not options["no_periodic"] else "off",
        )
        HUEY.create_consumer(**config.values).run()
