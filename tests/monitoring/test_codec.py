"""The HJ 212-2017 codec against packets published with open-source implementations.

Conformance vectors: packets as real loggers (or the standard) sent them, CRC and all, copied
byte for byte from the repository and file named with each. A vector is only "valid" here if
its CRC checks under Appendix A; published packets whose CRC does not check are in REFUSED
(a receiver must drop them). No Django: the codec is pure.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring import hj212

# (name, source repository and path, frame without its CR LF)
VECTORS = [
    (
        "icecoffee_2061",
        "github.com/1249993110/IceCoffee.HJ212 README.md (also Demo/Program.cs)",
        "##0285QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;"
        "CP=&&DataTime=20190924220000;a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,a34007-Flag=N;"
        "a34048-Avg=3.30600,a34048-Flag=N;a34047-Avg=7.35700,a34047-Flag=N;a34049-Avg=10.66300,a34049-Flag=N&&C181",
    ),
    (
        "standard_appendix_a",
        "HJ 212-2017 Appendix A example (its text misprints the CRC as 1C08; 1C80 is right)",
        "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&RtdInterval=30&&1C80",
    ),
    (
        "guocay_2011_lowercase_crc",
        "github.com/guocay/hj212-protocol protocol/src/test/java/com/github/guocay/hj212/ApplicationTest.java",
        "##0317QN=20191012133710130;ST=22;CN=2011;PW=123456;MN=Y80110010000010;Flag=4;CP=&&DataTime=20191012133710;"
        "a21005-Rtd=0.00,a21005-Flag=N;a21004-Rtd=0.00,a21004-Flag=N;a21007-Rtd=0.033,a21007-Flag=N;a21006-Rtd=0.036,"
        "a21006-Flag=N;a21001-Rtd=25.40,a21001-Flag=N;a21003-Rtd=101.94,a21003-Flag=N;a21002-Rtd=49.20,a21002-Flag=N&&cc01",
    ),
    (
        "guocay_2011_old_codes",
        "github.com/guocay/hj212-protocol protocol/src/test/java/com/github/guocay/hj212/ApplicationTest.java",
        "##0303QN=20191012133710130;ST=22;CN=2011;PW=123456;MN=Y80110010000010;Flag=4;CP=&&DataTime=20191012133710;"
        "a2106-Rtd=0.036,a2106-Flag=N;a2107-Rtd=0.033,a2107-Flag=N;a2104-Rtd=0.00,a2104-Flag=N;a2105-Rtd=0.00,"
        "a2105-Flag=N;a2102-Rtd=49.20,a2102-Flag=N;a2103-Rtd=101.94,a2103-Flag=N;a2101-Rtd=25.40,a2101-Flag=N&&71c0",
    ),
    (
        "alltobs_water_2011_flag8",
        "github.com/chenqi92/alltobs-hj212 README.md",
        "##0435QN=20210301111100112;ST=21;CN=2011;PW=123456;MN=ZLDSZ20210127;Flag=8;CP=&&DataTime=20210301111100;"
        "w01001-Rtd=8.33,w01001-Flag=N;w01009-Rtd=10.15,w01009-Flag=N;w01010-Rtd=9.7,w01010-Flag=N;w01014-Rtd=1425,"
        "w01014-Flag=N;w01003-Rtd=13.10,w01003-Flag=N;w21011-Rtd=0,w21011-Flag=N;w21001-Rtd=3.563168,w21001-Flag=N;"
        "w21003-Rtd=0.09055002,w21003-Flag=N;w01019-Rtd=4.102818,w01019-Flag=N;w01008-Rtd=0,w01008-Flag=N;"
        "w23002-Rtd=0,w23002-Flag=N&&7d00",
    ),
    (
        "alltobs_no_qn_no_flag",
        "github.com/chenqi92/alltobs-hj212 README.md",
        "##0109ST=32;CN=2011;PW=123456;MN=NJGDKYYC202101q0001w0001;CP=&&DataTime=20210305003817000;"
        "ele01-Rtd=1;ele02-Rtd=0&&8c41",
    ),
    (
        "flash520_2051_minute",
        "github.com/flash520/hj212 parse_test.go (also example/client/client.go)",
        "##0411QN=20220513162608370;ST=22;CN=2051;PW=123456;MN=JLYP01_AIR01_0001;Flag=4;CP=&&DataTime=20220513162600;"
        "a21004-Avg=4,a21004-Flag=N;a05024-Avg=63,a05024-Flag=N;a21026-Avg=6,a21026-Flag=N;a21005-Avg=0.427,"
        "a21005-Flag=N;a34004-Avg=14,a34004-Flag=N;a34002-Avg=31,a34002-Flag=N;a01007-Avg=1,a01007-Flag=N;"
        "a01008-Avg=11,a01008-Flag=N;a01001-Avg=17,a01001-Flag=N;a01002-Avg=85,a01002-Flag=N;a01006-Avg=95,"
        "a01006-Flag=N&&D641",
    ),
    (
        "liruoyu_2011_sampletime",
        "github.com/liruoyu2008/HJ212Interpreter README.md",
        "##0162QN=20231008123340461;ST=22;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&DataTime=20231008123340;w01008-SampleTime=20231008123340,w01008-Rtd=123.456&&F441",
    ),
    (
        "liruoyu_9011",
        "github.com/liruoyu2008/HJ212Interpreter README.md",
        "##0094QN=20231008125115215;ST=22;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&QnRtn=1&&CC01",
    ),
    (
        "liruoyu_2081_restart",
        "github.com/liruoyu2008/HJ212Interpreter README.md",
        "##0137QN=20231008130452757;ST=22;CN=2081;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&DataTime=20231008130452;RestartTime=20231007130452&&3AC0",
    ),
    (
        "scair_dust_log",
        "github.com/sCair/Hj212-Distribute logs/scada-distribute.log (a running system's log)",
        "##0121QN=20250131202809340;ST=39;CN=2011;PW=123456;MN=0507A010003242;Flag=4;"
        "CP=&&DataTime=20250131202809;a34001-Rtd=92;Flag=N&&BF41",
    ),
    (
        "tonyxia_rxlog_2005_style",
        "github.com/tonyxia2016/HJ212Receiver sources/GB212Service/bin/Debug/rx.log (packets received from loggers)",
        "##0234ST=101;CN=2011;PW=123456;MN=41050022000017;CP=&&DataTime=20200922110000;a34010-Rtd=2.017,"
        "a34010-Flag=N;a34009-Rtd=0.522,a34009-Flag=N;ua19004-Rtd=2.017,ua19004-Flag=N;ua19005-Rtd=0.522,"
        "ua19005-Flag=N;ua19003-Rtd=2.539,ua19003-Flag=N&&3300",
    ),
]

# Published packets whose CRC does not check under Appendix A (or uses CRC-16/MODBUS).
REFUSED = [
    (
        "standard_with_modbus_crc",
        "the Appendix A example with its CRC-16/MODBUS instead (0759)",
        "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&RtdInterval=30&&0759",
    ),
    (
        "standard_misprint",
        "HJ 212-2017 Appendix A as printed (1C08)",
        "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&RtdInterval=30&&1C08",
    ),
    (
        "guocay_wrong_crc",
        "github.com/guocay/hj212-protocol protocol/src/test/java/com/github/guocay/hj212/ApplicationTest.java",
        "##0275QN=20190901181526940;ST=32;CN=2011;PW=123456;MN=Y80110010000010;Flag=4;CP=&&DataTime=20190901181500;"
        "a21005-Rtd=1.760,a21005-Flag=N;a21026-Rtd=106.400,a21026-Flag=N;O3-Rtd=63.400,O3-Flag=N;a21004-Rtd=63.200,"
        "a21004-Flag=N;a34002-Rtd=9,a34002-Flag=N;a34004-Rtd=4,a34004-Flag=N&&1100",
    ),
]


def modbus_crc(data: bytes) -> int:
    """CRC-16/MODBUS (XOR before the shift): what some implementations wrongly use."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame_bytes(text: str) -> bytes:
    return text.encode("ascii") + b"\r\n"


def only_frames(events):
    return [e for e in events if isinstance(e, hj212.Frame)]


def test_check_value_and_not_modbus():
    assert hj212.crc16(b"123456789") == 0x2F80 == hj212.CRC_CHECK_VALUE
    assert modbus_crc(b"123456789") == 0x4B37  # the MODBUS check value, for contrast


@pytest.mark.parametrize("name,source,text", VECTORS, ids=[v[0] for v in VECTORS])
def test_published_packets_are_taken(name, source, text):
    events = list(hj212.frames_of(frame_bytes(text)))
    assert len(events) == 1 and isinstance(events[0], hj212.Frame), (source, events)
    data = events[0].data
    assert len(data) == int(text[2:6])
    packet = hj212.parse_segment(data)
    assert packet.mn and packet.cn and packet.st
    # encoding the same segment again gives the same frame, but with an upper-case CRC
    assert hj212.encode_frame(data) == frame_bytes(text[:-4] + text[-4:].upper())


@pytest.mark.parametrize("name,source,text", REFUSED, ids=[v[0] for v in REFUSED])
def test_wrong_crcs_are_dropped(name, source, text):
    (event,) = hj212.frames_of(frame_bytes(text))
    assert isinstance(event, hj212.FrameError) and event.reason == hj212.Reject.CRC


def test_modbus_crc_packet_is_refused():
    data = b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
    assert modbus_crc(data) == 0x0759 and hj212.crc16(data) == 0x1C80
    (event,) = hj212.frames_of(b"##0101" + data + b"0759\r\n")
    assert event.reason == hj212.Reject.CRC and event.mn == "010000A8900016F000169DC0"


def test_icecoffee_2061_fields_literal():
    (frame,) = only_frames(hj212.frames_of(frame_bytes(VECTORS[0][2])))
    p = hj212.parse_segment(frame.data)
    assert (p.qn, p.st, p.cn, p.pw, p.mn, p.flag) == (
        "20190925181031464",
        "22",
        "2061",
        "BF470F88957588DE902D1A52",
        "Z13401000010301",
        5,
    )
    assert p.wants_answer and not p.is_split
    assert p.data_time == dt.datetime(2019, 9, 24, 22, 0, 0)
    rows = {r.factor: (r.value, r.flag) for r in p.readings()}
    assert rows == {
        "a34006": (2.697, "N"),
        "a34007": (7.966, "N"),
        "a34048": (3.306, "N"),
        "a34047": (7.357, "N"),
        "a34049": (10.663, "N"),
    }


def test_untidy_loggers():
    by = {name: hj212.parse_segment(only_frames(hj212.frames_of(frame_bytes(t)))[0].data) for name, _, t in VECTORS}
    # no QN and no Flag (2005 style): keyed by command and DataTime, never answered
    p = by["alltobs_no_qn_no_flag"]
    assert p.qn == "" and p.flag is None and not p.wants_answer
    assert p.key == "2011@20210305003817000"
    assert p.data_time == dt.datetime(2021, 3, 5, 0, 38, 17)  # milliseconds ignored
    assert p.mn == "NJGDKYYC202101q0001w0001"  # 24 characters, not hex
    # MN with underscores, minute data: Avg is the value
    p = by["flash520_2051_minute"]
    assert p.mn == "JLYP01_AIR01_0001" and p.flag == 4 and not p.wants_answer
    assert {r.factor: r.value for r in p.readings()}["a21005"] == 0.427
    # an older Flag value (8: no answer bit) and lower-case CRC
    assert by["alltobs_water_2011_flag8"].flag == 8 and not by["alltobs_water_2011_flag8"].wants_answer
    # a stray item without a factor, a 3-digit ST and 5-letter codes
    assert by["scair_dust_log"].cp["Flag"] == "N" and by["scair_dust_log"].readings()[0].value == 92.0
    assert by["tonyxia_rxlog_2005_style"].st == "101"
    assert {r.factor for r in by["tonyxia_rxlog_2005_style"].readings()} >= {"a34010", "ua19004"}
    # the restart notice and an answer
    assert by["liruoyu_2081_restart"].cp["RestartTime"] == "20231007130452"
    assert by["liruoyu_9011"].cp == {"QnRtn": "1"}


def test_reply_9014_as_the_standard_describes():
    p = hj212.parse_segment(only_frames(hj212.frames_of(frame_bytes(VECTORS[0][2])))[0].data)
    reply = hj212.reply_9014(p)
    (frame,) = only_frames(hj212.frames_of(reply))
    r = hj212.parse_segment(frame.data)
    assert (r.qn, r.st, r.cn, r.flag, r.cp_text) == ("20190925181031464", "91", "9014", 4, "")
    assert reply.endswith(b"CP=&&&&" + b"%04X\r\n" % hj212.crc16(frame.data))
    refused = hj212.parse_segment(only_frames(hj212.frames_of(hj212.reply_9011(p, 3)))[0].data)
    assert (refused.cn, refused.cp) == ("9011", {"QnRtn": "3"})


def test_split_packets_merge():
    base = dict(qn="20260101120000000", st="32", cn="2031", pw="p", mn="M1", flag=3, pnum=2)
    one = hj212.parse_segment(hj212.segment(**base, pno=1, cp="DataTime=20260101000000;w01018-Avg=10,w01018-Flag=N"))
    two = hj212.parse_segment(hj212.segment(**base, pno=2, cp="DataTime=20260101000000;w21003-Avg=1.5,w21003-Flag=N"))
    assert one.is_split and one.wants_answer and (one.pnum, one.pno) == (2, 1)
    merged = hj212.merge_parts([two, one])
    assert {r.factor: r.value for r in merged.readings()} == {"w01018": 10.0, "w21003": 1.5}
    assert merged.flag == 1 and merged.data_time == dt.datetime(2026, 1, 1)


@pytest.mark.parametrize(
    "segment,why",
    [
        ("QN=1;ST=32;CN=2051;PW=1;MN=M;Flag=5", "no CP=&&"),
        ("ST=32;CN=2051;PW=1;Flag=5;CP=&&&&", "no MN"),
        ("ST=32;CN=20x1;PW=1;MN=M;CP=&&&&", "ST or CN is not a number"),
        ("ST=32;CN=2051;PW=1;MN=M;Flag=five;CP=&&&&", "Flag is not a number"),
        ("ST=32;CN=2051;PW=1;MN=M;Bogus=1;CP=&&&&", "unexpected header item"),
        ("ST=32;CN=2051;PW=1;MN=M;CP=&&DataTime&&", "CP item without"),
    ],
)
def test_unreadable_segments(segment, why):
    with pytest.raises(hj212.PacketError, match=why):
        hj212.parse_segment(segment)


def test_garbage_length_and_missing_crlf():
    good = frame_bytes(VECTORS[0][2])
    stream = b"\x00\xffjunk" + b"##12ab" + good + b"##0010" + b"x" * 10 + b"ABCD" + b"XX" + good
    events = list(hj212.frames_of(stream))
    assert [type(e).__name__ for e in events].count("Frame") == 2
    reasons = [e.reason for e in events if isinstance(e, hj212.FrameError)]
    assert hj212.Reject.GARBAGE in reasons and hj212.Reject.LENGTH in reasons and hj212.Reject.NO_CRLF in reasons
    # a frame claiming more than it has is refused at its CR LF, not waited for
    short = b"##0999" + good[6:]
    events = list(hj212.frames_of(short + good))
    assert events[0].reason == hj212.Reject.LENGTH and isinstance(events[1], hj212.Frame)
    # an unfinished frame is held, then given up
    d = hj212.Deframer()
    assert d.feed(good[:100]) == [] and d.pending == 100
    assert d.drop_pending().reason == hj212.Reject.TIMEOUT and d.pending == 0


# --- properties ----------------------------------------------------------------------------------

printable = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=";,=&"))
factor_codes = st.from_regex(r"\A[aw][0-9]{5}\Z")
values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 4))


@st.composite
def segments(draw):
    qn = draw(st.from_regex(r"\A[0-9]{17}\Z"))
    mn = draw(printable.filter(lambda s: 0 < len(s) <= 24))
    factors = draw(st.dictionaries(factor_codes, values, min_size=1, max_size=8))
    cp = hj212.data_cp(
        dt.datetime(2026, 1, 2, 3, 4),
        [(code, {"Avg": v, "Flag": draw(st.sampled_from("NFMSDCTB"))}) for code, v in factors.items()],
    )
    text = hj212.segment(qn=qn, st="32", cn="2051", pw="123456", mn=mn, flag=draw(st.sampled_from([4, 5])), cp=cp)
    return text, mn, factors


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(segments())
def test_roundtrip(case):
    text, mn, factors = case
    (frame,) = only_frames(hj212.frames_of(hj212.encode_frame(text)))
    p = hj212.parse_segment(frame.data)
    assert p.mn == mn and {r.factor: r.value for r in p.readings()} == pytest.approx(factors)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(segments(), min_size=1, max_size=6), st.data())
def test_any_split_of_a_stream_gives_the_same_frames(cases, data):
    stream = b"".join(hj212.encode_frame(c[0]) for c in cases)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    d = hj212.Deframer()
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += d.feed(stream[a:b])
    assert [e.data.decode() for e in got] == [c[0] for c in cases]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(segments(), min_size=2, max_size=5),
    st.lists(
        st.binary(max_size=40) | st.sampled_from([b"##", b"#", b"##0050", b"##12", b"###", b"##9999x"]),
        min_size=5,
        max_size=5,
    ),
)
def test_garbage_between_frames_loses_no_good_frame(cases, junk):
    stream = b"".join(j.replace(b"\r\n", b"") + hj212.encode_frame(c[0]) for c, j in zip(cases, junk, strict=False))
    frames = only_frames(hj212.frames_of(stream))
    assert [f.data.decode() for f in frames] == [c[0] for c in cases]


@settings(max_examples=300)
@given(st.binary(max_size=200), st.integers(0, 0xFFFF))
def test_a_frame_with_another_crc_is_never_taken(data, crc):
    data = data.replace(b"\r\n", b"")
    if crc == hj212.crc16(data):
        crc ^= 1
    frame = b"##%04d" % len(data) + data + b"%04x\r\n" % crc
    assert only_frames(hj212.frames_of(frame)) == []
