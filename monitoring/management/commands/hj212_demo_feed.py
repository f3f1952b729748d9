"""Keep the demo's synthetic loggers talking: `manage.py hj212_demo_feed [--host H] [--port P]`.

Each synthetic outlet logger (monitoring.demo) sends the minutes it missed (at most
--catch-up hours) and then one minute packet (2051) a minute to the receiver, as a 数采仪 does,
resending what is not answered. Without it the demo loggers fall silent an hour after loading
and each opens a 数采仪离线 case. scripts/receiver.sh starts it next to the receiver when
HJ212_DEMO_FEED=1. It never touches a logger that is not synthetic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from monitoring.models import Logger, LoggerKind
from monitoring.simulator import Client, SimLogger

log = logging.getLogger("monitoring.demo_feed")


def _levels(logger: Logger) -> tuple[tuple[str, float], ...]:
    out = []
    for lim in logger.limits.all():
        level = (lim.low + lim.high) / 2 if lim.low is not None and lim.high is not None else lim.high * 0.45
        out.append((lim.factor, round(level, 3)))
    return tuple(out)


class Command(BaseCommand):
    help = "Feed the demo's synthetic loggers' minute data to the HJ 212 receiver, live."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HJ212_HOST)
        parser.add_argument("--port", type=int, default=settings.HJ212_PORT)
        parser.add_argument("--catch-up", type=float, default=6.0, help="hours of missed minutes to send first")
        parser.add_argument("--once", action="store_true", help="send what is due once and stop")

    def handle(self, *args, host: str, port: int, catch_up: float, once: bool, **options) -> None:
        asyncio.run(self.feed(host, port, catch_up, once))

    async def feed(self, host: str, port: int, catch_up: float, once: bool) -> None:
        sent_through: dict[str, dt.datetime] = {}
        while True:
            loggers = await asyncio.to_thread(self.loggers)
            now = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
            clients = []
            for logger, last in loggers:
                first = sent_through.get(logger.mn) or (last + dt.timedelta(minutes=1) if last else now)
                first = max(first, now - dt.timedelta(hours=catch_up))
                sim = SimLogger(mn=logger.mn, pw=logger.password, factors=_levels(logger))
                minutes = []
                t = first
                while t < now:
                    minutes.append(sim.minute_frame(t))
                    t += dt.timedelta(minutes=1)
                if minutes:
                    client = Client(host, port, resend_after=10, window=200)
                    client.submit(minutes)
                    clients.append(client)
                    sent_through[logger.mn] = now
            if clients:
                deadline = time.monotonic() + 50
                await asyncio.gather(*(c.run(until=deadline) for c in clients))
                answered = sum(len(c.stats.answered) for c in clients)
                log.info("demo feed: %d loggers, %d minutes answered", len(clients), answered)
            if once:
                return
            await asyncio.sleep(max(1.0, 60 - dt.datetime.now().second))

    def loggers(self) -> list[tuple[Logger, dt.datetime | None]]:
        rows = Logger.objects.filter(synthetic=True, active=True, kind=LoggerKind.OUTLET).prefetch_related("limits")
        out = []
        for logger in rows:
            last = timezone.localtime(logger.last_data_time).replace(tzinfo=None) if logger.last_data_time else None
            out.append((logger, last))
        return out
