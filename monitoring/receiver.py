"""The HJ 212 receiver: an asyncio TCP server that data loggers (数采仪) connect to.

Each connection cuts its byte stream into frames (`hj212.Deframer`: many packets per
connection, packets split across reads or several in one read) and reads each data segment.
Readable packets wait in one queue; writers (MONITORING_WRITERS, each with its own database
connection, so that one stores while another prepares) take them in batches (up to
MONITORING_BATCH_PACKETS, or what arrived within MONITORING_BATCH_MS), checks MN and PW
against the registered loggers, and stores the batch in one transaction
(`store.write_batch`: COPY, then INSERT … ON CONFLICT DO NOTHING). Only after the commit does
it answer: 9014 to every upload that asks for an answer, 9011 (QnRtn 4 unknown MN, 3 wrong
PW) to refused ones. So every answered packet is stored, and a packet the logger resends
because its answer was late is answered again but stored once (the ledger and the primary
key).

While the database is away (a restart), the writer retries the same batch with backoff and
the server stops reading from sockets once MONITORING_BACKLOG_PACKETS are waiting; loggers
keep their data and resend what was not answered. Garbage, a bad length or CRC, a frame
without CR LF are dropped and counted; a frame begun and not finished within
MONITORING_FRAME_SECONDS (a slow client) is dropped and its connection closed; a connection
idle for MONITORING_IDLE_SECONDS is closed.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import hmac
import logging
import resource
import socket
import time
from dataclasses import dataclass, field

import psycopg

from . import hj212, store
from .conf import setting

log = logging.getLogger("monitoring.receiver")

UPLOADS = {"2011", "2051", "2061", "2031"}
ANSWERED = UPLOADS | {"2081"}  # uploads and the restart notice get 9014 when they ask
UNDERSTOOD = ANSWERED | {"9011", "9012", "9014"}  # answers from a logger are never answered
QNRTN_BAD_PW, QNRTN_UNKNOWN_MN = 3, 4


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard limit (thousands of loggers); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


@dataclass
class Item:
    """A readable packet waiting for the writer, and where to answer it."""

    conn: Connection
    packet: hj212.Packet
    segment: bytes
    received_at: dt.datetime


@dataclass
class Stats:
    connections: int = 0
    frames: int = 0
    dropped: collections.Counter = field(default_factory=collections.Counter)
    batches: int = 0
    stored: int = 0
    answered: int = 0
    retries: int = 0
    db_seconds: float = 0.0  # time spent storing batches


class Connection(asyncio.Protocol):
    """One logger's TCP connection: framing and parsing; the writer does the rest."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.deframer = hj212.Deframer(max_segment=receiver.max_segment)
        self.transport: asyncio.Transport | None = None
        self.last_rx = time.monotonic()
        self.partial_since: float | None = None
        self.peer = ""

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else ""
        self.receiver.connections.add(self)
        self.receiver.stats.connections += 1
        if self.receiver.paused:
            transport.pause_reading()

    def connection_lost(self, exc) -> None:
        self.receiver.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_rx = now
        receiver = self.receiver
        for event in self.deframer.feed(data):
            if isinstance(event, hj212.Frame):
                receiver.take(self, event.data)
            else:
                receiver.drop(event.reason, mn=event.mn)
        if self.deframer.pending:
            if self.partial_since is None:
                self.partial_since = now
        else:
            self.partial_since = None

    def send(self, data: bytes) -> bool:
        if self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(data)
        return True

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class Receiver:
    """The server, its queue and its writer. `await run()` serves until `stop()`."""

    def __init__(self, *, dsn: str, host: str = "127.0.0.1", port: int = 9212, reuse_port: bool = False) -> None:
        self.dsn = dsn
        self.host = host
        self.port = port
        self.reuse_port = reuse_port
        self.connections: set[Connection] = set()
        self.queue: collections.deque[Item] = collections.deque()
        self.ready = asyncio.Event()  # set once listening (port known)
        self.stats = Stats()
        self.paused = False
        self.batch_packets = int(setting("MONITORING_BATCH_PACKETS"))
        self.batch_seconds = float(setting("MONITORING_BATCH_MS")) / 1000
        self.backlog = int(setting("MONITORING_BACKLOG_PACKETS"))
        self.idle_seconds = float(setting("MONITORING_IDLE_SECONDS"))
        self.frame_seconds = float(setting("MONITORING_FRAME_SECONDS"))
        self.max_segment = int(setting("MONITORING_MAX_SEGMENT"))
        self.loggers: dict[str, tuple[int, str]] = {}
        self.loggers_loaded = 0.0
        self.partitions: set[tuple[str, dt.date]] = set()
        self.pending_drops = store.BatchCounts()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.writers = int(setting("MONITORING_WRITERS"))
        # slot 0: look-ups and the first writer; each further writer has a connection of its own
        self._conns: list[psycopg.AsyncConnection | None] = [None] * max(1, self.writers)
        self._server: asyncio.Server | None = None

    # --- the event loop side -------------------------------------------------------------

    def take(self, conn: Connection, data: bytes) -> None:
        self.stats.frames += 1
        try:
            packet = hj212.parse_segment(data)
        except hj212.PacketError:
            self.drop(hj212.Reject.MALFORMED, mn=hj212.claimed_mn(data))
            return
        if packet.cn not in UNDERSTOOD:
            log.info("CN %s from MN %s not handled (%d bytes)", packet.cn, packet.mn[:24], len(data))
            return
        self.queue.append(Item(conn, packet, data, dt.datetime.now(dt.UTC)))
        self._wake.set()
        if len(self.queue) >= self.backlog and not self.paused:
            self._pause(True)

    def drop(self, reason: str, *, mn: str = "") -> None:
        """Count a dropped frame; one that claims a registered MN also counts in that logger's
        拒收报文 (as a wrong password does: the claim is what the bureau can follow up)."""
        self.stats.dropped[reason] += 1
        known = self.loggers.get(mn) if mn else None
        self.pending_drops.reject(
            mn=mn, reason=str(reason), logger_id=known[0] if known else None, at=dt.datetime.now(dt.UTC)
        )
        self._wake.set()  # the counts go to the database with the next batch

    def _pause(self, paused: bool) -> None:
        self.paused = paused
        for conn in list(self.connections):
            if conn.transport is not None and not conn.transport.is_closing():
                (conn.transport.pause_reading if paused else conn.transport.resume_reading)()
        log.warning(
            "receiver %s reading: %d packets wait for the database", "paused" if paused else "resumed", len(self.queue)
        )

    async def _sweep(self) -> None:
        """Close idle connections; drop frames begun too long ago and close their senders."""
        while not self._stopping.is_set():
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(self.connections):
                if conn.partial_since is not None and now - conn.partial_since > self.frame_seconds:
                    error = conn.deframer.drop_pending()
                    if error is not None:
                        self.drop(error.reason, mn=error.mn)
                    conn.close()
                elif now - conn.last_rx > self.idle_seconds:
                    conn.close()

    # --- the database side ---------------------------------------------------------------

    async def _connect(self) -> psycopg.AsyncConnection:
        delay = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True, prepare_threshold=None)
                await conn.execute("SET TIME ZONE 'Asia/Shanghai'")
                return conn
            except psycopg.OperationalError as exc:
                if self._stopping.is_set():
                    raise
                log.warning("database not reachable (%s); retrying in %.1fs", str(exc).strip()[:120], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _db(self, slot: int = 0) -> psycopg.AsyncConnection:
        conn = self._conns[slot]
        if conn is None or conn.closed or conn.broken:
            conn = self._conns[slot] = await self._connect()
        return conn

    async def _load_loggers(self, only: list[str] | None = None, slot: int = 0) -> None:
        conn = await self._db(slot)
        if only is None:
            cur = await conn.execute("SELECT mn, id, password FROM monitoring_logger WHERE active")
            self.loggers = {mn: (pk, pw) for mn, pk, pw in await cur.fetchall()}
            self.loggers_loaded = time.monotonic()
        else:
            cur = await conn.execute(
                "SELECT mn, id, password FROM monitoring_logger WHERE active AND mn = ANY(%s)", [only]
            )
            self.loggers.update({mn: (pk, pw) for mn, pk, pw in await cur.fetchall()})

    async def _ensure_partitions(self, needed: set[tuple[str, dt.date]], slot: int = 0) -> None:
        missing = needed - self.partitions
        if not missing:
            return
        conn = await self._db(slot)
        cur = conn.cursor()
        await cur.execute(store.EXISTING_SQL, [store.PARENTS])
        self.partitions = {p for (name,) in await cur.fetchall() if (p := store.parse_partition(name))}
        for period, month in sorted(needed - self.partitions):
            await cur.execute(*store.partition_create(period, month))  # one made elsewhere meanwhile: no-op
            self.partitions.add((period, month))

    async def _writer(self, slot: int) -> None:
        while True:
            if not self.queue and not self.pending_drops.rejections:
                if self._stopping.is_set():
                    break
                self._wake.clear()
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                continue
            if len(self.queue) < self.batch_packets and not self._stopping.is_set():
                await asyncio.sleep(self.batch_seconds)  # let a batch fill (and drops add up)
            batch = [self.queue.popleft() for _ in range(min(len(self.queue), self.batch_packets))]
            await self._flush(batch, slot)
            if self.paused and len(self.queue) < self.backlog // 2:
                self._pause(False)

    async def _flush(self, batch: list[Item], slot: int = 0) -> None:
        """Check, store and answer one batch; retry it until the database takes it."""
        now = dt.datetime.now(dt.UTC)
        unknown = {i.packet.mn for i in batch if i.packet.mn not in self.loggers}
        if unknown:  # registered since the last load? One indexed look-up per batch.
            await self._retry(lambda: self._load_loggers(only=sorted(unknown), slot=slot), slot)
        counts, self.pending_drops = self.pending_drops, store.BatchCounts()
        window = store.time_window(now)
        uploads: list[store.Upload] = []
        parts: list[tuple[Item, int]] = []
        answers: list[tuple[Item, bytes]] = []
        for item in batch:
            packet = item.packet
            known = self.loggers.get(packet.mn)
            if known is None:
                counts.reject(mn=packet.mn, reason=hj212.Reject.UNKNOWN_MN, at=now)
                if packet.wants_answer and packet.cn in ANSWERED:
                    answers.append((item, hj212.reply_9011(packet, QNRTN_UNKNOWN_MN)))
                continue
            logger_id, password = known
            if not hmac.compare_digest(packet.pw.encode("latin-1"), password.encode("latin-1")):
                counts.reject(mn=packet.mn, reason=hj212.Reject.BAD_PW, logger_id=logger_id, at=now)
                if packet.wants_answer and packet.cn in ANSWERED:
                    answers.append((item, hj212.reply_9011(packet, QNRTN_BAD_PW)))
                continue
            if packet.is_split:
                parts.append((item, logger_id))
                continue
            upload, why = store.upload_of(
                packet, logger_id=logger_id, received_at=item.received_at, now=now, window=window
            )
            if upload is None:
                counts.reject(mn=packet.mn, reason=why, logger_id=logger_id, at=now)
                continue
            uploads.append(upload)
            if packet.wants_answer and packet.cn in ANSWERED:
                answers.append((item, hj212.reply_9014(packet)))
        for item, _ in parts:
            if item.packet.wants_answer:
                answers.append((item, hj212.reply_9014(item.packet)))
        await self._ensure_partitions(store.needed_partitions(uploads), slot)

        async def write() -> None:
            conn = await self._db(slot)
            await store.write_batch(
                conn,
                uploads,
                counts,
                parts=[(lid, i.packet, i.segment, i.received_at) for i, lid in parts],
                now=now,
                partitions=self.partitions,
            )

        started = time.monotonic()
        await self._retry(write, slot)
        self.stats.db_seconds += time.monotonic() - started
        self.stats.batches += 1
        self.stats.stored += len(uploads)
        # one write per connection and batch: a logger with several packets in it gets them together
        by_conn: dict[Connection, list[bytes]] = {}
        for item, reply in answers:
            by_conn.setdefault(item.conn, []).append(reply)
        for conn, replies in by_conn.items():
            if conn.send(b"".join(replies)):
                self.stats.answered += len(replies)

    async def _retry(self, action, slot: int = 0) -> None:
        delay = 0.1
        while True:
            try:
                return await action()
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self.stats.retries += 1
                log.warning("database write failed (%s); retrying in %.1fs", str(exc).strip()[:120], delay)
                if self._conns[slot] is not None:
                    await self._conns[slot].close()
                self._conns[slot] = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _refresh_loggers(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(30)
            await self._retry(self._load_loggers)

    async def _report(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(60)
            s = self.stats
            log.info(
                "connections=%d frames=%d stored=%d answered=%d batches=%d retries=%d dropped=%s",
                len(self.connections),
                s.frames,
                s.stored,
                s.answered,
                s.batches,
                s.retries,
                dict(s.dropped),
            )

    # --- life cycle ------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        raise_open_files_limit()
        await self._retry(self._load_loggers)
        self._server = await loop.create_server(
            lambda: Connection(self), self.host, self.port, backlog=8192, reuse_port=self.reuse_port or None
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("HJ 212 receiver on %s:%d (%d loggers registered)", self.host, self.port, len(self.loggers))
        self.ready.set()
        writers = [asyncio.create_task(self._writer(slot)) for slot in range(len(self._conns))]
        tasks = [
            asyncio.create_task(self._sweep()),
            asyncio.create_task(self._refresh_loggers()),
            asyncio.create_task(self._report()),
        ]
        await self._stopping.wait()
        self._server.close()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.pause_reading()
        await asyncio.gather(*writers)  # the writers store and answer what is queued
        for task in tasks:
            task.cancel()
        for conn in list(self.connections):
            conn.close()
        for conn in self._conns:
            if conn is not None:
                await conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
