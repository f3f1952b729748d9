"""Serve the HJ 212-2017 receiver: `manage.py hj212_receiver [--host H] [--port P] [--processes N]`."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from psycopg.conninfo import make_conninfo

from monitoring.receiver import Receiver

log = logging.getLogger("monitoring.receiver")


def database_dsn() -> str:
    """The libpq connection string of Django's default database (the receiver's own connection)."""
    db = settings.DATABASES["default"]
    parts = {"dbname": db["NAME"], "user": db.get("USER"), "password": db.get("PASSWORD")}
    parts |= {"host": db.get("HOST"), "port": db.get("PORT")}
    return make_conninfo(**{k: str(v) for k, v in parts.items() if v})


def serve(dsn: str, host: str, port: int, reuse_port: bool) -> None:
    async def main() -> None:
        receiver = Receiver(dsn=dsn, host=host, port=port, reuse_port=reuse_port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, receiver.stop)
        await receiver.run()

    asyncio.run(main())


class Command(BaseCommand):
    help = "Serve the HJ 212-2017 receiver that data loggers (数采仪) connect to."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HJ212_HOST, help="address to bind (HJ212_HOST, 127.0.0.1)")
        parser.add_argument("--port", type=int, default=settings.HJ212_PORT, help="port (HJ212_PORT, 9212)")
        parser.add_argument(
            "--processes",
            type=int,
            default=int(os.environ.get("HJ212_PROCESSES", "1")),
            help="receiver processes sharing the port (SO_REUSEPORT); each has its own database connection",
        )

    def handle(self, *args, host: str, port: int, processes: int, **options) -> None:
        dsn = database_dsn()
        connection.close()  # the receiver uses its own connections; nothing to inherit when forking
        if processes <= 1:
            serve(dsn, host, port, False)
            return
        children = [
            multiprocessing.get_context("fork").Process(target=serve, args=(dsn, host, port, True), daemon=False)
            for _ in range(processes)
        ]
        for child in children:
            child.start()

        def forward(signum, frame):
            for child in children:
                if child.is_alive():
                    os.kill(child.pid, signal.SIGTERM)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        for child in children:
            child.join()
