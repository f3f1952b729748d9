"""The HJ 212 receiver over real TCP sockets on loopback, storing into the real test database.

Each test starts the production receiver (monitoring.receiver.Receiver) on a free port, talks
to it with raw bytes or the simulator's clients, and reads what was committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from monitoring import hj212
from monitoring.simulator import Client, SimLogger, exchange

from .receiving import run_async

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 30, 8, 0)  # minutes of a past morning, well inside retention


def minutes(n: int, start: dt.datetime = T0) -> list[dt.datetime]:
    return [start + dt.timedelta(minutes=i) for i in range(n)]


def rows(pg, logger_id: int, period: str = "M") -> int:
    return pg.execute(
        "SELECT count(*) FROM monitoring_reading WHERE logger_id = %s AND period = %s", [logger_id, period]
    ).fetchone()[0]


def counters(pg, logger_id: int) -> tuple[int, int, int]:
    return pg.execute(
        "SELECT accepted, duplicates, rejected FROM monitoring_logger WHERE id = %s", [logger_id]
    ).fetchone()


def rejections(pg, mn: str) -> dict[str, int]:
    return dict(pg.execute("SELECT reason, count FROM monitoring_rejection WHERE mn = %s", [mn]).fetchall())


def test_many_packets_on_one_connection_are_stored_and_answered(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-MANY-01"])
    sim = SimLogger(mn="RCV-MANY-01")
    frames = [sim.minute_frame(m) for m in minutes(60)]
    replies = run_async(exchange("127.0.0.1", r.port, b"".join(f for _, f in frames), replies=60))
    assert [p.qn for p in replies] == [qn for qn, _ in frames]
    for reply in replies:  # 9014: the same QN, ST=91, Flag=4, an empty CP (and a good CRC: it parsed)
        assert (reply.cn, reply.st, reply.flag, reply.cp_text, reply.mn) == ("9014", "91", 4, "", "RCV-MANY-01")
    logger_id = ids["RCV-MANY-01"]
    assert rows(pg, logger_id) == 60 * 5
    assert counters(pg, logger_id) == (60, 0, 0)
    assert pg.execute("SELECT count(*) FROM monitoring_packet WHERE logger_id = %s", [logger_id]).fetchone()[0] == 60
    value, flag = pg.execute(
        "SELECT value, flag FROM monitoring_reading WHERE logger_id = %s AND factor = 'w01018' AND time = %s",
        [logger_id, T0.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))],
    ).fetchone()
    assert flag == "N" and value == float(hj212.parse_segment(frames[0][1][6:-6]).factors["w01018"]["Avg"])


def test_packets_split_across_reads_and_several_per_read(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-SPLIT-01"])
    frames = [SimLogger(mn="RCV-SPLIT-01").minute_frame(m) for m in minutes(20)]
    stream = b"".join(f for _, f in frames)
    rng = random.Random(7)

    async def dribble():
        reader, writer = await asyncio.open_connection("127.0.0.1", r.port)
        i = 0
        while i < len(stream):
            step = rng.choice([1, 2, 3, 7, 50, 400, 900])
            writer.write(stream[i : i + step])
            await writer.drain()
            i += step
            await asyncio.sleep(0.001)
        got, deframer = [], hj212.Deframer()
        while len(got) < 20:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            got += [hj212.parse_segment(e.data).qn for e in deframer.feed(chunk) if isinstance(e, hj212.Frame)]
        writer.close()
        return got

    assert run_async(dribble()) == [qn for qn, _ in frames]
    assert rows(pg, ids["RCV-SPLIT-01"]) == 100


def test_resent_packet_is_answered_again_but_stored_once(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-ONCE-01"])
    qn, frame = SimLogger(mn="RCV-ONCE-01").minute_frame(T0)
    first = run_async(exchange("127.0.0.1", r.port, frame + frame, replies=2))
    again = run_async(exchange("127.0.0.1", r.port, frame, replies=1))  # a new connection
    assert [p.qn for p in first + again] == [qn, qn, qn]
    assert rows(pg, ids["RCV-ONCE-01"]) == 5
    assert counters(pg, ids["RCV-ONCE-01"]) == (1, 2, 0)
    # and across a restart of the receiver
    r.stop()
    r2 = receiver()
    assert [p.qn for p in run_async(exchange("127.0.0.1", r2.port, frame, replies=1))] == [qn]
    assert rows(pg, ids["RCV-ONCE-01"]) == 5 and counters(pg, ids["RCV-ONCE-01"]) == (1, 3, 0)


def test_unknown_mn_and_wrong_password_are_refused_with_9011(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-PW-01"], password="right1")
    _, wrong_pw = SimLogger(mn="RCV-PW-01", pw="wrong1").minute_frame(T0)
    _, unknown = SimLogger(mn="RCV-NOBODY-01").minute_frame(T0)
    _, quiet = SimLogger(mn="RCV-PW-01", pw="wrong1").minute_frame(T0, flag=4)  # no answer asked
    replies = run_async(exchange("127.0.0.1", r.port, wrong_pw + quiet + unknown, replies=2))
    assert [(p.cn, p.cp.get("QnRtn"), p.mn) for p in replies] == [
        ("9011", "3", "RCV-PW-01"),
        ("9011", "4", "RCV-NOBODY-01"),
    ]
    assert rows(pg, ids["RCV-PW-01"]) == 0
    assert counters(pg, ids["RCV-PW-01"]) == (0, 0, 2)
    assert rejections(pg, "RCV-PW-01") == {"bad_pw": 2}
    assert rejections(pg, "RCV-NOBODY-01") == {"unknown_mn": 1}


def test_garbage_and_bad_frames_are_dropped_counted_and_the_rest_served(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-JUNK-01"])
    sim = SimLogger(mn="RCV-JUNK-01")
    (qn1, good1), (qn2, good2) = sim.minute_frame(T0), sim.minute_frame(T0 + dt.timedelta(minutes=1))
    seg = good1[6:-6]
    modbus = b"##%04d" % len(seg) + seg + b"%04X\r\n" % _modbus(seg)
    no_crlf = good2[:-2]
    before = dict(pg.execute("SELECT reason, sum(count) FROM monitoring_rejection GROUP BY reason").fetchall())
    stream = b"\x00\x01garbage" + modbus + b"##99x" + no_crlf + good1 + b"\xff" * 100 + good2
    replies = run_async(exchange("127.0.0.1", r.port, stream, replies=2))
    assert [p.qn for p in replies] == [qn1, qn2]
    assert rows(pg, ids["RCV-JUNK-01"]) == 10
    time.sleep(0.3)  # the counters of the last drops go with the next batch or idle flush
    after = dict(pg.execute("SELECT reason, sum(count) FROM monitoring_rejection GROUP BY reason").fetchall())
    grew = {k for k in after if after[k] > before.get(k, 0)}
    assert {"garbage", "crc", "length", "no_crlf"} <= grew
    assert rejections(pg, "RCV-JUNK-01").get("crc") == 1
    # once the receiver knows the MN, a frame claiming it that fails its CRC also counts in
    # that logger's 拒收报文 (as a wrong password does)
    rejected = counters(pg, ids["RCV-JUNK-01"])[2]
    qn3, good3 = sim.minute_frame(T0 + dt.timedelta(minutes=2))
    replies = run_async(exchange("127.0.0.1", r.port, modbus + good3, replies=1))
    assert [p.qn for p in replies] == [qn3]
    time.sleep(0.3)
    assert counters(pg, ids["RCV-JUNK-01"])[2] == rejected + 1
    assert rejections(pg, "RCV-JUNK-01").get("crc") == 2


def test_oversize_length_is_refused_at_once_and_the_next_frame_taken(receiver, committed_loggers, pg):
    r = receiver()  # MONITORING_MAX_SEGMENT: 4096 by default (HJ 212-2017 allows 1024)
    ids = committed_loggers(["RCV-BIG-01"])
    qn, good = SimLogger(mn="RCV-BIG-01").minute_frame(T0)
    before = dict(pg.execute("SELECT reason, sum(count) FROM monitoring_rejection GROUP BY reason").fetchall())
    # no CR LF after the junk: without the limit the frame would wait for its 5,000 bytes, and
    # be cut only at the good frame's CR LF as a wrong length
    replies = run_async(exchange("127.0.0.1", r.port, b"##5000QN=" + b"x" * 300 + good, replies=1))
    assert [p.qn for p in replies] == [qn]
    assert rows(pg, ids["RCV-BIG-01"]) == 5
    assert (r.receiver.stats.dropped["oversize"], r.receiver.stats.dropped["length"]) == (1, 0)
    time.sleep(0.3)  # the counters of the last drops go with the next batch or idle flush
    after = dict(pg.execute("SELECT reason, sum(count) FROM monitoring_rejection GROUP BY reason").fetchall())
    assert after.get("oversize", 0) - before.get("oversize", 0) == 1
    # the limit is the setting's: a good frame longer than it is refused the same way
    _, good2 = SimLogger(mn="RCV-BIG-01").minute_frame(T0 + dt.timedelta(minutes=1))
    small = receiver(MONITORING_MAX_SEGMENT=len(good2) - 12 - 1)  # one byte short of its segment
    assert run_async(exchange("127.0.0.1", small.port, good2, replies=1, timeout=1)) == []
    assert small.receiver.stats.dropped["oversize"] == 1 and rows(pg, ids["RCV-BIG-01"]) == 5


def test_real_time_2011_is_stored(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-RTD-01"])
    # now, to the second: real-time data are kept for one month (MONITORING_RETENTION_MONTHS R)
    at = timezone.localtime().replace(microsecond=0, tzinfo=None)
    cp = hj212.data_cp(at, [("w01018", {"Rtd": 41.5, "Flag": "N"}), ("w01001", {"Rtd": 7.12, "Flag": "C"})])
    qn = f"{at:%Y%m%d%H%M%S}123"
    frame = hj212.encode_frame(hj212.segment(qn=qn, st="32", cn="2011", pw="123456", mn="RCV-RTD-01", flag=5, cp=cp))
    replies = run_async(exchange("127.0.0.1", r.port, frame, replies=1))
    assert [(p.cn, p.qn) for p in replies] == [("9014", qn)]
    got = pg.execute(
        "SELECT factor, time, value, min, max, flag FROM monitoring_reading WHERE logger_id = %s AND period = 'R'"
        " ORDER BY factor",
        [ids["RCV-RTD-01"]],
    ).fetchall()
    aware = at.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))  # Asia/Shanghai, as the logger meant
    assert got == [("w01001", aware, 7.12, None, None, "C"), ("w01018", aware, 41.5, None, None, "N")]
    assert counters(pg, ids["RCV-RTD-01"]) == (1, 0, 0)


def _modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_no_answer_unless_asked_and_other_commands(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-CMD-01"])
    sim = SimLogger(mn="RCV-CMD-01")
    _, silent = sim.minute_frame(T0, flag=4)  # Flag=4: no answer wanted
    seg = lambda cn, cp, flag=5, qn="20261130080500000": hj212.encode_frame(  # noqa: E731
        hj212.segment(qn=qn, st="32", cn=cn, pw="123456", mn="RCV-CMD-01", flag=flag, cp=cp)
    )
    restart = seg("2081", "DataTime=20261130080500;RestartTime=20261130080000")
    answer = seg("9014", "", qn="20261130080600000")  # an answer from the logger: never answered
    params = seg("1062", "RtdInterval=30", qn="20261130080700000")  # not handled: logged only
    _, asked = sim.minute_frame(T0 + dt.timedelta(minutes=1))
    replies = run_async(exchange("127.0.0.1", r.port, silent + restart + answer + params + asked, replies=3, timeout=3))
    assert [(p.cn, p.qn) for p in replies] == [
        ("9014", "20261130080500000"),
        ("9014", sim.qn(T0 + dt.timedelta(minutes=1, seconds=8))),
    ]
    assert rows(pg, ids["RCV-CMD-01"]) == 10  # both minutes stored
    assert counters(pg, ids["RCV-CMD-01"])[0] == 4  # two uploads, the restart notice, the logger's 9014


def test_data_outside_retention_or_in_the_future_are_refused(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-TIME-01"])
    sim = SimLogger(mn="RCV-TIME-01")
    _, old = sim.minute_frame(dt.datetime(1999, 1, 1, 0, 0))
    _, future = sim.minute_frame(dt.datetime.now() + dt.timedelta(days=3))
    qn, ok = sim.minute_frame(T0)
    replies = run_async(exchange("127.0.0.1", r.port, old + future + ok, replies=1))
    assert [p.qn for p in replies] == [qn]
    assert rows(pg, ids["RCV-TIME-01"]) == 5
    assert rejections(pg, "RCV-TIME-01") == {"bad_time": 2}


def test_split_packet_is_reassembled(receiver, committed_loggers, pg):
    r = receiver()
    ids = committed_loggers(["RCV-PART-01"])
    base = dict(qn="20261201000010000", st="32", cn="2031", pw="123456", mn="RCV-PART-01", flag=3, pnum=3)
    parts = [
        hj212.encode_frame(hj212.segment(**base, pno=n, cp=f"DataTime=20261130000000;{code}-Avg={v},{code}-Flag=N"))
        for n, (code, v) in enumerate([("w01018", 20.5), ("w21003", 1.25), ("w21011", 0.2)], start=1)
    ]
    first = run_async(exchange("127.0.0.1", r.port, parts[2] + parts[0], replies=2))
    assert [p.cn for p in first] == ["9014", "9014"]  # each part answered once it is kept
    assert rows(pg, ids["RCV-PART-01"], "D") == 0  # not stored before it is whole
    run_async(exchange("127.0.0.1", r.port, parts[1], replies=1))
    got = dict(
        pg.execute(
            "SELECT factor, value FROM monitoring_reading WHERE logger_id = %s AND period = 'D'", [ids["RCV-PART-01"]]
        ).fetchall()
    )
    assert got == {"w01018": 20.5, "w21003": 1.25, "w21011": 0.2}
    assert counters(pg, ids["RCV-PART-01"]) == (1, 0, 0)
    assert (
        pg.execute("SELECT count(*) FROM monitoring_part WHERE logger_id = %s", [ids["RCV-PART-01"]]).fetchone()[0] == 0
    )


def test_slow_client_is_dropped_and_others_are_served(receiver, committed_loggers, pg):
    r = receiver(MONITORING_FRAME_SECONDS=1)
    committed_loggers(["RCV-SLOW-01", "RCV-FAST-01"])
    _, slow = SimLogger(mn="RCV-SLOW-01").minute_frame(T0)
    qn, fast = SimLogger(mn="RCV-FAST-01").minute_frame(T0)

    async def scenario():
        reader, writer = await asyncio.open_connection("127.0.0.1", r.port)
        writer.write(slow[:120])  # a frame begun (its MN readable) and never finished
        await writer.drain()
        served = await exchange("127.0.0.1", r.port, fast, replies=1)
        closed = await asyncio.wait_for(reader.read(100), 5)  # b"" once the server closes it
        return served, closed

    served, closed = run_async(scenario())
    assert [p.qn for p in served] == [qn] and closed == b""
    time.sleep(0.3)
    assert rejections(pg, "RCV-SLOW-01") == {"timeout": 1}


def test_idle_connection_is_closed(receiver):
    r = receiver(MONITORING_IDLE_SECONDS=1)
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
        t0 = time.monotonic()
        assert s.recv(10) == b""
        assert 0.9 <= time.monotonic() - t0 < 4.5


def test_five_thousand_concurrent_connections(receiver, committed_loggers, pg):
    r = receiver()
    n = 5000
    ids = committed_loggers([f"RCV-CONC-{i:05d}" for i in range(n)])
    frames = [SimLogger(mn=mn).minute_frame(T0) for mn in ids]

    async def scenario():
        opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", r.port) for _ in range(n)))
        assert len(r.receiver.connections) == n  # every one open at the same time
        for (_, writer), (_, frame) in zip(opened, frames, strict=True):
            writer.write(frame)

        async def answer(reader):
            d = hj212.Deframer()
            while True:
                chunk = await asyncio.wait_for(reader.read(4096), 60)
                done = [e for e in d.feed(chunk) if isinstance(e, hj212.Frame)]
                if done:
                    return hj212.parse_segment(done[0].data).qn

        answers = await asyncio.gather(*(answer(reader) for reader, _ in opened))
        for _, writer in opened:
            writer.close()
        return answers

    answers = run_async(scenario())
    assert answers == [qn for qn, _ in frames]
    stored = pg.execute(
        "SELECT count(DISTINCT logger_id) FROM monitoring_reading WHERE logger_id = ANY(%s) AND period = 'M'",
        [list(ids.values())],
    ).fetchone()[0]
    assert stored == n


def test_resending_client_gets_everything_stored_once(receiver, committed_loggers, pg):
    """The simulator's client resends what is not answered within a second; all arrive once."""
    r = receiver(MONITORING_BATCH_MS=300)  # answers slower than the client's patience
    ids = committed_loggers(["RCV-RESEND-01"])
    client = Client("127.0.0.1", r.port, resend_after=0.1)
    client.submit(SimLogger(mn="RCV-RESEND-01").minute_frame(m) for m in minutes(30))
    run_async(client.run(until=time.monotonic() + 30))
    assert client.done and client.stats.resent > 0 and len(client.stats.answered) == 30
    assert rows(pg, ids["RCV-RESEND-01"]) == 150
    # resends still in flight when the last answer came are counted a moment later
    deadline = time.monotonic() + 10
    while sum(counters(pg, ids["RCV-RESEND-01"])[:2]) < client.stats.sent and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counters(pg, ids["RCV-RESEND-01"]) == (30, client.stats.sent - 30, 0)
    assert rows(pg, ids["RCV-RESEND-01"]) == 150


ROOT = Path(__file__).resolve().parents[2]


def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def _running(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(") ", 1)[1][:1] != "Z"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_receiver_script_start_listens_on_hj212_port_and_stop_closes_it(pg):
    """scripts/receiver.sh, what `make run` and `make stop` call: on HJ212_PORT, against the
    test database (DATABASE_URL, as the live server gets it), without the demo feed."""
    pidfile = ROOT / "var" / "receiver.pid"
    if _alive(pidfile):  # the script keeps one receiver per checkout: this test would stop it
        pytest.skip("a receiver started by `make run` is running (var/receiver.pid)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "HJ212_PORT": str(port),
        "HJ212_PROCESSES": "1",
        "HJ212_DEMO_FEED": "0",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    script = str(ROOT / "scripts" / "receiver.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=30, check=True)
    assert f"127.0.0.1:{port}" in started.stdout
    pid = int(pidfile.read_text())
    try:
        deadline = time.monotonic() + 60
        while not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        # it speaks HJ 212: an unknown MN asking for an answer is refused with 9011 QnRtn=4
        _, frame = SimLogger(mn="RCV-SCRIPT-NOBODY").minute_frame(T0)
        replies = run_async(exchange("127.0.0.1", port, frame, replies=1))
        assert [(p.cn, p.cp.get("QnRtn")) for p in replies] == [("9011", "4")]
        subprocess.run([script, "status"], env=env, capture_output=True, timeout=30, check=True)
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=30, check=True)
        deadline = time.monotonic() + 30
        while (_listening(port) or _running(pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        listening, running = _listening(port), _running(pid)
        if running:  # stop failed: leave nothing behind for the next tests
            os.kill(pid, signal.SIGKILL)
        pg.execute("DELETE FROM monitoring_rejection WHERE mn = 'RCV-SCRIPT-NOBODY'")
    assert not pidfile.exists()
    assert not listening, f"port {port} still open after stop"
    assert not running, f"receiver pid {pid} still running after stop"
    status = subprocess.run([script, "status"], env=env, capture_output=True, text=True, timeout=30)
    assert (status.returncode, status.stdout.strip()) == (3, "receiver stopped")
