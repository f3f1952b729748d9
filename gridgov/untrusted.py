"""Untrusted files: GDAL kept to the file it is given, and parsing in a child process with limits.

GDAL chooses a driver by content, and several drivers reach outside the file they open: a VRT
names other files and SQL, WFS/OAPIF/HTTP fetch URLs, /vsicurl/ and its cousins read the
network. Two defences, both in force for every upload:

1. **The environment.** `gridgov/__init__.py` imports this module first, so before any GDAL
   library (Django's, pyogrio's or rasterio's copy) registers its drivers, the process skips
   the drivers that reach outside a file (`GDAL_SKIP`) and switches off what a GDAL or PROJ
   option can switch off: /vsicurl/ and the cloud file systems derived from it accept no file
   name, PROJ fetches no grids, SQLite views call no function that opens other datasets.
   Command-line tools the project itself runs against trusted URLs (`ogrinfo OAPIF:` in the
   interoperability tests) get `tool_environment()`, the environment without this hardening.
2. **A child process.** `run_isolated(func, *args)` runs `func` in a process forked from a
   clean fork server (never from the web process, which may hold threads and connections),
   under an address-space, CPU-time and file-size limit and a wall-clock timeout, without
   network (a fresh network namespace where the kernel allows it), and with only the GDAL
   drivers it names. It returns what `func` returns — plain, picklable data — or raises
   `Refused` (the child's own verdict on the file, with a code for the caller to translate),
   `WorkerTimeout`, `WorkerOutOfMemory` or `WorkerCrashed`. A hostile file can crash, hang or
   exhaust only that child.

Nothing here knows about vectors: a raster reader can run through `run_isolated` the same way
(`gdal_drivers=("GTiff",)`, and add "rasterio" to the preloaded modules). This module must stay
importable before Django is configured (it is imported while settings load): no Django here.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import math
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

# --- 1. the environment ------------------------------------------------------------------------

#: Drivers that follow references out of the file (VRT, tile indexes, GDALG pipelines), talk to
#: a network service (WFS, OAPIF, HTTP, …), follow links (LIBKML) or run a program (GPSBabel).
#: Every name is one pyogrio's GDAL knows (a name a build lacks makes GDAL warn at start-up).
SKIPPED_DRIVERS = (
    "VRT",
    "OGR_VRT",
    "GTI",
    "GDALG",
    "WFS",
    "OAPIF",
    "OGCAPI",
    "HTTP",
    "CSW",
    "WMS",
    "WMTS",
    "WCS",
    "EEDA",
    "EEDAI",
    "DAAS",
    "NGW",
    "PLMOSAIC",
    "PLSCENES",
    "STACTA",
    "STACIT",
    "LIBKML",
    "GPSBabel",
    "Elasticsearch",
    "Carto",
    "AmigoCloud",
)

#: Set in the environment at import, before GDAL reads it (GDAL_SKIP is read once, when the
#: drivers are registered; the others whenever GDAL looks them up).
HARDENING = {
    # /vsicurl/, /vsis3/, /vsigs/, /vsiaz/ … open only names ending in this: none do.
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gridgov-no-network",
    "PROJ_NETWORK": "OFF",
    # SQLite/GeoPackage: no function that opens another dataset from inside a view.
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    # GML: no xlink resolution and no schema download (the driver is not accepted for uploads;
    # this is for any code that still meets one).
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
    "GDAL_HTTP_MAX_RETRY": "0",
}

_ORIGINAL = {name: os.environ.get(name) for name in ("GDAL_SKIP", *HARDENING)}


def _harden_environment() -> None:
    skipped = (_ORIGINAL["GDAL_SKIP"] or "").replace(",", " ").split()
    os.environ["GDAL_SKIP"] = " ".join(dict.fromkeys([*skipped, *SKIPPED_DRIVERS]))
    os.environ.update(HARDENING)


class _RasterBuildNoise(logging.Filter):
    """rasterio's GDAL has no vector drivers, so it warns about each vector name in GDAL_SKIP."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "to unload from GDAL_SKIP" not in record.getMessage()


_harden_environment()
logging.getLogger("rasterio._env").addFilter(_RasterBuildNoise())


def tool_environment() -> dict[str, str]:
    """The process environment without the hardening, for trusted command-line tools.

    For GDAL tools the project runs itself against addresses it chose (`ogrinfo OAPIF:<our own
    server>` in the interoperability tests); never for anything an upload names.
    """
    env = dict(os.environ)
    for name, value in _ORIGINAL.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


# --- 2. the child process ----------------------------------------------------------------------

#: Imported once by the fork server, so that a child starts in milliseconds: the vector readers'
#: libraries. Apps add their readers (and modules that warm their caches) with `preload()`; a
#: raster reader would add "rasterio".
PRELOAD = ["numpy", "shapely", "pyproj", "pyogrio", "gridgov.coords"]


def preload(*modules: str) -> None:
    """Have the fork server import `modules` too (before its first child; later calls are no-ops)."""
    PRELOAD.extend(m for m in modules if m not in PRELOAD)


MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What a child may use. `gdal_drivers`: the only GDAL drivers left registered (None: all)."""

    timeout_s: float = 60.0
    memory_mb: int = 1024  # address space on top of what the child starts with
    file_size_mb: int = 256  # largest file the child may write (zip extraction)
    gdal_drivers: tuple[str, ...] | None = None
    isolate_network: bool = True


class Refused(Exception):
    """A child-side reader's verdict on a file it will not read: a stable code and plain params.

    Raised in the child, re-raised as is in the caller, which turns it into a message in the
    user's language (the child knows nothing of requests or languages).
    """

    def __init__(self, code: str, params: dict[str, Any] | None = None):
        super().__init__(code, params or {})
        self.code = code
        self.params = params or {}


class WorkerFailed(Exception):
    """The child did not answer: it ran too long, ran out of memory or died."""


class WorkerTimeout(WorkerFailed):
    pass


class WorkerOutOfMemory(WorkerFailed):
    pass


class WorkerCrashed(WorkerFailed):
    pass


T = TypeVar("T")
_IN_CHILD = False


@functools.cache
def _context() -> multiprocessing.context.BaseContext:
    """The fork server's context: children fork from a clean process that imported PRELOAD."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))  # a copy: what is registered by now
    return context


def run_isolated(func: Callable[..., T], /, *args: Any, limits: Limits = Limits(), **kwargs: Any) -> T:
    """Run `func(*args, **kwargs)` in a limited child process and return its (picklable) result.

    `func` must be a module-level function of a module that imports without Django (the child
    unpickles it by name). Raises `Refused` as the child raised it, or a `WorkerFailed`.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, func, args, kwargs, limits), name="gridgov-untrusted")
    child.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            raise WorkerTimeout(f"no answer within {limits.timeout_s:g} s")
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError) as exc:
            child.join(1)
            raise WorkerCrashed(f"the child ended without an answer (exit code {child.exitcode})") from exc
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if status == "ok":
        return payload
    if status == "refused":
        raise payload
    if status == "memory":
        raise WorkerOutOfMemory(payload)
    raise WorkerCrashed(payload)


def _child_main(sender, func: Callable, args: tuple, kwargs: dict, limits: Limits) -> None:
    global _IN_CHILD
    _IN_CHILD = True
    try:
        _apply_limits(limits)
        if limits.gdal_drivers is not None:
            restrict_gdal_drivers(limits.gdal_drivers)
        answer: tuple[str, Any] = ("ok", func(*args, **kwargs))
    except Refused as exc:
        answer = ("refused", exc)
    except MemoryError:
        answer = ("memory", "out of memory")
    except BaseException as exc:  # anything else the file provoked: reported, never raised here
        answer = ("error", f"{type(exc).__name__}: {str(exc)[:300]}")
    try:
        sender.send(answer)
    except MemoryError:
        sender.send(("memory", "answer too large"))
    sender.close()


def _apply_limits(limits: Limits) -> None:
    """Address space, CPU time and file size of this (child) process; network off if possible."""
    cpu = math.ceil(limits.timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + limits.memory_mb * MB,) * 2)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversize write fails (EFBIG), not the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * MB,) * 2)
    if limits.isolate_network:
        _unshare_network()


def _address_space() -> int:
    """The child's address space now (bytes): the limit is added on top of what it inherited."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000


def _unshare_network() -> bool:
    """Move this process into a new, empty network namespace (no interface but a down loopback).

    Best effort: root may always; other users need unprivileged user namespaces. Where neither
    works, the GDAL hardening above is what stands between a file and the network.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    flags = _CLONE_NEWNET if os.geteuid() == 0 else _CLONE_NEWUSER | _CLONE_NEWNET
    return libc.unshare(flags) == 0


def restrict_gdal_drivers(keep: Iterable[str]) -> None:
    """Deregister every GDAL driver but `keep`, in every GDAL library this child has loaded.

    Only in a child of `run_isolated`: the registry is per process, and the web process keeps
    its drivers. Fails closed when no GDAL library is loaded yet (import the reader first).

    Register the reader's drivers *before* calling this: a library that registers lazily (rasterio
    calls GDALAllRegister on its first open) would otherwise bring every driver back afterwards.
    `geodata.scene_read.prepare()` opens rasterio's environment first for that reason, and
    tests/geodata/test_scene_sandbox.py checks that only the kept drivers remain after a read.
    """
    if not _IN_CHILD:
        raise RuntimeError("restrict_gdal_drivers() belongs in a run_isolated() child")
    keep = set(keep)
    libraries = _loaded_gdal_libraries()
    if not libraries:
        raise RuntimeError("no GDAL library loaded: nothing to restrict")
    for gdal in libraries:
        for index in reversed(range(gdal.GDALGetDriverCount())):
            driver = gdal.GDALGetDriver(index)
            if gdal.GDALGetDriverShortName(driver).decode() not in keep:
                gdal.GDALDeregisterDriver(driver)
        left = set(_driver_names(gdal))
        if not left <= keep:
            raise RuntimeError(f"GDAL drivers still registered: {sorted(left - keep)}")


def registered_gdal_drivers() -> list[list[str]]:
    """The driver short names registered in each GDAL library loaded in this process."""
    return [_driver_names(gdal) for gdal in _loaded_gdal_libraries()]


def _driver_names(gdal: ctypes.CDLL) -> list[str]:
    return [gdal.GDALGetDriverShortName(gdal.GDALGetDriver(i)).decode() for i in range(gdal.GDALGetDriverCount())]


def _loaded_gdal_libraries() -> list[ctypes.CDLL]:
    """Every GDAL shared library mapped into this process (the system's and the wheels' copies)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libgdal" in line}
    libraries = []
    for path in sorted(p for p in paths if os.path.basename(p).startswith("libgdal")):
        gdal = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)  # the loaded copy, never a new one
        gdal.GDALGetDriverCount.restype = ctypes.c_int
        gdal.GDALGetDriver.restype = ctypes.c_void_p
        gdal.GDALGetDriver.argtypes = [ctypes.c_int]
        gdal.GDALGetDriverShortName.restype = ctypes.c_char_p
        gdal.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
        gdal.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
        libraries.append(gdal)
    return libraries
