"""gridgov.untrusted: the GDAL environment, and the limited child that parses untrusted files.

(The module is the grid core's; its tests live here with the uploads they protect.)
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pyogrio
import pytest

from gridgov import untrusted

from . import isolated


def test_drivers_that_reach_outside_a_file_are_not_registered():
    """gridgov/__init__.py sets GDAL_SKIP before pyogrio's GDAL registered its drivers."""
    drivers = pyogrio.list_drivers()
    assert {"GeoJSON", "GPKG", "ESRI Shapefile"} <= set(drivers)
    assert not {"VRT", "OGR_VRT", "WFS", "OAPIF", "HTTP", "CSW", "GPSBabel"} & set(drivers)
    assert os.environ["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"] == ".gridgov-no-network"


def test_tool_environment_drops_the_hardening():
    env = untrusted.tool_environment()
    assert "OAPIF" not in env.get("GDAL_SKIP", "")
    assert "CPL_VSIL_CURL_ALLOWED_EXTENSIONS" not in env or env["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"] != (
        ".gridgov-no-network"
    )
    assert env["PATH"] == os.environ["PATH"]


def test_a_result_and_a_refusal_come_back():
    assert untrusted.run_isolated(isolated.double, 21) == 42
    with pytest.raises(untrusted.Refused) as exc:
        untrusted.run_isolated(isolated.refuse)
    assert (exc.value.code, exc.value.params) == ("no_thanks", {"why": "a test"})


@pytest.mark.parametrize("func", [isolated.sleep_forever, isolated.spin_forever])
def test_a_child_that_hangs_is_killed_at_the_timeout(func):
    t0 = time.monotonic()
    with pytest.raises(untrusted.WorkerTimeout):
        untrusted.run_isolated(func, limits=untrusted.Limits(timeout_s=1.0))
    assert time.monotonic() - t0 < 6


def test_a_child_that_allocates_too_much_stops_at_its_memory_limit():
    with pytest.raises(untrusted.WorkerOutOfMemory):
        untrusted.run_isolated(isolated.allocate, 4, limits=untrusted.Limits(memory_mb=256))


def test_a_child_that_crashes_leaves_the_caller_standing():
    with pytest.raises(untrusted.WorkerCrashed):
        untrusted.run_isolated(isolated.segfault)
    assert untrusted.run_isolated(isolated.double, 1) == 2


def test_a_child_cannot_write_a_file_past_its_limit(tmp_path):
    with pytest.raises(untrusted.WorkerCrashed, match="File too large|errno 27"):
        untrusted.run_isolated(isolated.write_file, str(tmp_path / "big"), 8, limits=untrusted.Limits(file_size_mb=4))
    assert (tmp_path / "big").stat().st_size <= 4 * 1024 * 1024


def test_only_the_named_gdal_drivers_stay_registered():
    libraries = untrusted.run_isolated(isolated.gdal_drivers, limits=untrusted.Limits(gdal_drivers=("GPKG",)))
    assert libraries and all(names == ["GPKG"] for names in libraries)
    # The caller's own registry is untouched.
    assert "GeoJSON" in pyogrio.list_drivers()


def test_restricting_drivers_is_refused_outside_a_child():
    with pytest.raises(RuntimeError):
        untrusted.restrict_gdal_drivers(["GPKG"])


def test_a_child_has_no_network():
    """The child runs in an empty network namespace: a listener of the caller sees nothing."""
    received = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(3)

        def accept():
            try:
                received.append(server.accept())
            except OSError:
                pass

        waiter = threading.Thread(target=accept)
        waiter.start()
        answer = untrusted.run_isolated(isolated.connect, server.getsockname()[1])
        waiter.join()
    if answer == "connected" and os.geteuid() != 0:
        pytest.skip("this kernel allows no unprivileged network namespace; GDAL's own switches still apply")
    assert answer.startswith("refused") and received == []
