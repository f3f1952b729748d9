"""Functions the runner tests run in a child (gridgov.untrusted.run_isolated): Django-free."""

from __future__ import annotations

import ctypes
import socket
import time

from gridgov import untrusted


def double(x: int) -> int:
    return 2 * x


def refuse() -> None:
    raise untrusted.Refused("no_thanks", {"why": "a test"})


def sleep_forever() -> None:
    while True:
        time.sleep(1)


def spin_forever() -> None:
    while True:
        pass


def allocate(gib: int) -> int:
    return len(bytearray(gib * 1024**3))


def segfault() -> None:
    ctypes.string_at(0)


def write_file(path: str, mb: int) -> int:
    with open(path, "wb") as out:
        for _ in range(mb):
            out.write(b"\0" * (1024 * 1024))
    return mb


def gdal_drivers() -> list[list[str]]:
    return untrusted.registered_gdal_drivers()


def connect(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return "connected"
    except OSError as exc:
        return f"refused: {exc.errno}"
