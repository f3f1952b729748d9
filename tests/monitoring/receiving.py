"""The production receiver on its own event loop in a thread, and committed writes, for tests."""

from __future__ import annotations

import asyncio
import threading

from django.db import connection

from monitoring.receiver import Receiver


class ReceiverThread:
    """The production receiver on its own event loop in a thread (port 0: a free one)."""

    def __init__(self, dsn: str) -> None:
        self.receiver = Receiver(dsn=dsn, host="127.0.0.1", port=0)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main():
            self.loop = asyncio.get_running_loop()
            task = asyncio.create_task(self.receiver.run())
            await self.receiver.ready.wait()
            self.started.set()
            await task

        try:
            asyncio.run(main())
        except BaseException as exc:  # shown by the test that waits for it
            self.error = exc
            self.started.set()

    def start(self) -> ReceiverThread:
        self.thread.start()
        assert self.started.wait(30), "receiver did not start"
        if self.error:
            raise self.error
        return self

    @property
    def port(self) -> int:
        return self.receiver.port

    def stop(self) -> None:
        if self.loop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.receiver.stop)
        self.thread.join(30)


def run_async(coro):
    """asyncio.run(coro) in a thread of its own: once Playwright's sync API has run in this
    session, the main thread has an event loop running and asyncio.run() refuses there."""
    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def committed(fn):
    """Run fn on a database connection of its own (a thread), so that what it writes is
    committed and seen by the receiver and the live server (the test's own transaction is not)."""
    out: list = []

    def run():
        try:
            out.append(fn())
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert out, "the committed write failed (see the log)"
    return out[0]
