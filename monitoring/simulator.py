"""Simulated data loggers: HJ 212 clients for tests, benchmarks, the reliability run and demos.

A `SimLogger` makes packets the way a 数采仪 at an outlet does (minute data 2051 with -Avg,
-Min, -Max and -Flag per factor, Flag=5: answer wanted). A `Client` keeps one TCP connection
per logger: it sends packets, reads the answers (9014 by QN), resends a packet that was not
answered within `resend_after` seconds (as loggers do) and reconnects when the connection
drops. No Django: these run anywhere the receiver can be reached.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import hj212

DEFAULT_FACTORS = (("w01018", 30.0), ("w21003", 2.0), ("w21011", 0.3), ("w01001", 7.2), ("w00000", 12.0))


@dataclass
class SimLogger:
    mn: str
    pw: str = "123456"
    st: str = "32"
    factors: tuple[tuple[str, float], ...] = DEFAULT_FACTORS
    seed: int = 0

    def qn(self, at: dt.datetime, serial: int = 0) -> str:
        return f"{at:%Y%m%d%H%M%S}{serial % 1000:03d}"

    def minute_segment(
        self,
        minute: dt.datetime,
        *,
        qn: str | None = None,
        values: dict[str, float] | None = None,
        flags: dict[str, str] | None = None,
        flag: int = 5,
        cn: str = "2051",
    ) -> tuple[str, str]:
        """(QN, data segment) of one minute (or with `cn`, hour/day) packet."""
        rng = random.Random(f"{self.mn}|{self.seed}|{minute.isoformat()}")
        items = []
        for code, base in self.factors:
            value = (values or {}).get(code, round(base * (0.9 + 0.2 * rng.random()), 3))
            items.append(
                (
                    code,
                    {
                        "Avg": value,
                        "Min": round(value * 0.95, 3),
                        "Max": round(value * 1.05, 3),
                        "Flag": (flags or {}).get(code, "N"),
                    },
                )
            )
        qn = qn or self.qn(minute + dt.timedelta(seconds=8))
        cp = hj212.data_cp(minute, items)
        return qn, hj212.segment(qn=qn, st=self.st, cn=cn, pw=self.pw, mn=self.mn, flag=flag, cp=cp)

    def minute_frame(self, minute: dt.datetime, **kw) -> tuple[str, bytes]:
        qn, seg = self.minute_segment(minute, **kw)
        return qn, hj212.encode_frame(seg)


@dataclass
class ClientStats:
    sent: int = 0  # frames written, resends included
    resent: int = 0
    answered: set[str] = field(default_factory=set)  # QNs answered with 9014
    refused: dict[str, int] = field(default_factory=dict)  # QN → QnRtn of a 9011
    connects: int = 0
    latencies: list[float] = field(default_factory=list)


class Client:
    """One simulated logger on its own TCP connection (see the module docstring)."""

    def __init__(
        self, host: str, port: int, *, resend_after: float = 5.0, window: int = 1_000_000, connect_timeout: float = 5.0
    ) -> None:
        self.host = host
        self.port = port
        self.resend_after = resend_after
        self.window = window
        self.connect_timeout = connect_timeout
        self.stats = ClientStats()
        self.outstanding: dict[str, tuple[bytes, float, float]] = {}  # qn → (frame, first sent, last sent)
        self.queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task | None = None
        self._space = asyncio.Event()
        self._space.set()

    def submit(self, packets: Iterable[tuple[str, bytes]]) -> None:
        self.queue.extend(packets)

    @property
    def done(self) -> bool:
        return not self.queue and not self.outstanding

    async def _connect(self) -> None:
        delay = 0.05
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.connect_timeout
                )
                break
            except (OSError, TimeoutError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        self._writer = writer
        self.stats.connects += 1
        self._reader_task = asyncio.create_task(self._read(reader))
        # after a reconnect, everything not answered goes again at once
        now = time.monotonic()
        for qn, (frame, first, _last) in list(self.outstanding.items()):
            self.outstanding[qn] = (frame, first, now - self.resend_after)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        deframer = hj212.Deframer()
        try:
            while chunk := await reader.read(65536):
                for event in deframer.feed(chunk):
                    if not isinstance(event, hj212.Frame):
                        continue
                    packet = hj212.parse_segment(event.data)
                    pending = self.outstanding.pop(packet.qn, None)
                    if packet.cn == "9014":
                        self.stats.answered.add(packet.qn)
                    elif packet.cn == "9011":
                        self.stats.refused[packet.qn] = int(packet.cp.get("QnRtn", "0"))
                    if pending is not None:
                        self.stats.latencies.append(time.monotonic() - pending[1])
                        self._space.set()
        except (ConnectionError, OSError):
            pass
        finally:
            if self._writer is not None:
                self._writer.close()
            self._writer = None

    async def _write(self, frame: bytes) -> bool:
        if self._writer is None or self._writer.is_closing():
            return False
        try:
            self._writer.write(frame)
            if self._writer.transport.get_write_buffer_size() > 256 * 1024:
                await self._writer.drain()
        except (ConnectionError, OSError):
            return False
        self.stats.sent += 1
        return True

    async def run(self, *, until: float, interval: float = 0.0) -> None:
        """Send what was submitted (one packet per `interval` seconds, 0 = as the window
        allows) and resend what goes unanswered, until everything is answered or `until`
        (a time.monotonic() deadline)."""
        await self._connect()
        next_send = time.monotonic()
        next_check = next_send + self.resend_after / 4
        while time.monotonic() < until and not self.done:
            if self._writer is None:
                await self._connect()
                continue
            now = time.monotonic()
            if now >= next_check:  # resend what waited too long for its answer
                next_check = now + self.resend_after / 4
                for qn, (frame, first, last) in list(self.outstanding.items()):
                    if now - last >= self.resend_after:
                        self.outstanding[qn] = (frame, first, now)
                        self.stats.resent += 1
                        await self._write(frame)
            while self.queue and len(self.outstanding) < self.window and (not interval or now >= next_send):
                qn, frame = self.queue.popleft()
                self.outstanding[qn] = (frame, now, now)
                await self._write(frame)
                if interval:
                    next_send += interval
            self._space.clear()
            wake = next_check if not interval or not self.queue else min(next_check, next_send)
            try:
                await asyncio.wait_for(self._space.wait(), timeout=max(0.001, min(wake - time.monotonic(), 0.5)))
            except TimeoutError:
                pass
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        if self._reader_task is not None:
            self._reader_task.cancel()


async def exchange(host: str, port: int, data: bytes, *, replies: int, timeout: float = 10.0) -> list[hj212.Packet]:
    """Send raw bytes on a new connection; return the first `replies` packets answered (tests)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        deframer = hj212.Deframer()
        out: list[hj212.Packet] = []
        deadline = time.monotonic() + timeout
        while len(out) < replies:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except TimeoutError:
                break
            if not chunk:
                break
            out += [hj212.parse_segment(e.data) for e in deframer.feed(chunk) if isinstance(e, hj212.Frame)]
        return out
    finally:
        writer.close()
