"""HJ 212-2017 codec: framing, the Appendix A CRC, the data segment and replies. No Django.

A frame on the wire is ``##`` + the data segment's length in bytes (4 digits) + the data
segment + its CRC (4 hex digits, either case) + CR LF. The data segment is
``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&``; inside CP, items are separated
by ``;`` and a factor's fields by ``,`` (``w01018-Avg=52.1,w01018-Flag=N``).

The CRC is the standard's own (Appendix A), not CRC-16/MODBUS: start at 0xFFFF and for each
byte ``crc = (crc >> 8) ^ byte``, then eight times shift right and XOR 0xA001 when the dropped
bit was 1. Because the XOR happens after the shift, the new value depends only on the old
value's high byte and the new byte, so one 256-entry table gives it in one step per byte. Its
check value: ``crc16(b"123456789") == 0x2F80``.

Real loggers are untidy, and this codec takes them as they are: MNs that are not 24 hex
digits, 2005-style packets without QN or Flag, older Flag values, lower-case CRCs, DataTime
with milliseconds. It never takes a wrong CRC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "CRC_CHECK_VALUE",
    "MAX_SEGMENT",
    "Deframer",
    "Frame",
    "FrameError",
    "Packet",
    "PacketError",
    "Reading",
    "crc16",
    "encode_frame",
    "parse_segment",
    "reply_9011",
    "reply_9014",
    "segment",
]

CRC_CHECK_VALUE = 0x2F80
MAX_SEGMENT = 9999  # four decimal digits; the receiver takes less (MONITORING_MAX_SEGMENT)


def _table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16(data: bytes) -> int:
    """The CRC of HJ 212-2017 Appendix A over `data` (the data segment's bytes)."""
    crc = 0xFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc >> 8) ^ byte]
    return crc


def encode_frame(data: bytes | str) -> bytes:
    """Wrap a data segment into a frame: ``##`` + length + data + CRC (upper-case hex) + CR LF."""
    raw = data.encode("ascii") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_SEGMENT:
        raise ValueError(f"data segment of {len(raw)} bytes is longer than {MAX_SEGMENT}")
    return b"##%04d%s%04X\r\n" % (len(raw), raw, crc16(raw))


# --- Framing -----------------------------------------------------------------------------------


class Reject(StrEnum):
    """Why bytes or a packet were dropped (the counters' reasons)."""

    GARBAGE = "garbage"  # bytes outside any frame
    LENGTH = "length"  # the length field is not 4 digits, or the frame ends before it says
    OVERSIZE = "oversize"  # the length field is beyond what the receiver takes (max_segment)
    NO_CRLF = "no_crlf"  # the frame does not end in CR LF
    CRC = "crc"  # the CRC does not match (or is not hex)
    TIMEOUT = "timeout"  # a frame begun and never finished
    MALFORMED = "malformed"  # the data segment cannot be read
    INCOMPLETE = "incomplete"  # a split packet whose parts never all arrived
    UNKNOWN_MN = "unknown_mn"
    BAD_PW = "bad_pw"
    BAD_TIME = "bad_time"  # DataTime outside what is kept (too old, or in the future)


@dataclass(frozen=True)
class Frame:
    """A frame whose length, CR LF and CRC are right: its data segment."""

    data: bytes


@dataclass(frozen=True)
class FrameError:
    """Bytes dropped while framing, with the reason and how many bytes went."""

    reason: Reject
    size: int
    mn: str = ""  # the MN the dropped bytes claim, when one can be read (not to be trusted)


_MN_IN = re.compile(rb"MN=([^;&]{1,64})")
_CP_SEPARATORS = re.compile("[;,]")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def claimed_mn(data: bytes) -> str:
    """The MN a frame claims (for counting refusals; never trusted)."""
    m = _MN_IN.search(data)
    return m.group(1).decode("latin-1") if m else ""


class Deframer:
    """Cut a byte stream into frames: packets split across reads or several in one read.

    `feed()` returns the frames and errors found so far and keeps an unfinished frame for the
    next call. A bad frame is dropped and the search for the next one starts two bytes after
    its ``##``, so a good frame right behind garbage or a broken frame is still found. A data
    segment never holds CR LF, so a frame whose announced length runs past a CR LF is
    refused at once instead of waiting for bytes that will not come.
    """

    def __init__(self, *, max_segment: int = MAX_SEGMENT) -> None:
        self.max_segment = max_segment
        self.buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished frame."""
        return len(self.buffer)

    def drop_pending(self) -> FrameError | None:
        """Give up the unfinished frame (timeout); return the error to count, if any."""
        if not self.buffer:
            return None
        error = FrameError(Reject.TIMEOUT, len(self.buffer), claimed_mn(bytes(self.buffer)))
        self.buffer.clear()
        return error

    def feed(self, chunk: bytes) -> list[Frame | FrameError]:
        buf = self.buffer
        buf += chunk
        out: list[Frame | FrameError] = []
        while buf:
            start = buf.find(b"##")
            if start < 0:
                keep = 1 if buf[-1:] == b"#" else 0  # maybe the first half of the next "##"
                if len(buf) > keep:
                    out.append(FrameError(Reject.GARBAGE, len(buf) - keep))
                    del buf[: len(buf) - keep]
                break
            if start:
                out.append(FrameError(Reject.GARBAGE, start))
                del buf[:start]
            if len(buf) < 6:
                break
            digits = bytes(buf[2:6])
            if not digits.isdigit():
                out.append(FrameError(Reject.LENGTH, 1))
                del buf[:1]  # "###0285…": the frame may start at the next byte
                continue
            size = int(digits)
            if size > self.max_segment:
                out.append(FrameError(Reject.OVERSIZE, 2))
                del buf[:2]
                continue
            total = 6 + size + 6
            crlf = buf.find(b"\r\n", 6, total)
            if 0 <= crlf < total - 2:
                # A CR LF before the announced end: the length is wrong (or the frame was cut).
                out.append(self._skip(Reject.LENGTH, crlf + 2))
                continue
            if len(buf) < total:
                break
            data = bytes(buf[6 : 6 + size])
            if buf[total - 2 : total] != b"\r\n":
                out.append(self._skip(Reject.NO_CRLF, total))
                continue
            crc_text = bytes(buf[6 + size : 6 + size + 4])
            if all(c in _HEX for c in crc_text) and int(crc_text, 16) == crc16(data):
                out.append(Frame(data))
                del buf[:total]
            else:
                out.append(self._skip(Reject.CRC, total))
        return out

    def _skip(self, reason: Reject, end: int) -> FrameError:
        """Drop the bad frame at the start of the buffer, up to `end`, or only up to the next
        "##" inside it: a good frame behind a broken header is then still found."""
        buf = self.buffer
        cut = buf.find(b"##", 2, end)
        cut = end if cut < 0 else cut
        error = FrameError(reason, cut, claimed_mn(bytes(buf[6:cut])))
        del buf[:cut]
        return error


def frames_of(stream: bytes) -> Iterator[Frame | FrameError]:
    """Every frame and error of a complete byte stream (for tests and tools)."""
    deframer = Deframer()
    yield from deframer.feed(stream)
    leftover = deframer.drop_pending()
    if leftover is not None:
        yield leftover


# --- The data segment --------------------------------------------------------------------------


class PacketError(ValueError):
    """A data segment that cannot be read (reason `Reject.MALFORMED`)."""


class Reading(NamedTuple):
    """One factor of one packet: the value (Rtd, or Avg for minute/hour/day data) and its flag."""

    factor: str
    value: float | None
    min: float | None
    max: float | None
    cou: float | None
    flag: str


@dataclass
class Packet:
    """A data segment, read: the header fields and CP's items."""

    qn: str
    st: str
    cn: str
    pw: str
    mn: str
    flag: int | None
    pnum: int | None = None
    pno: int | None = None
    cp_text: str = ""
    cp: dict[str, str] = field(default_factory=dict)  # items that are not a factor's field
    factors: dict[str, dict[str, str]] = field(default_factory=dict)  # factor → field → text

    @property
    def wants_answer(self) -> bool:
        """Flag bit 0 (A): the logger waits for an answer."""
        return bool(self.flag is not None and self.flag & 1)

    @property
    def is_split(self) -> bool:
        """Flag bit 1 (D) with PNUM and PNO: one part of a split packet."""
        return bool(self.flag is not None and self.flag & 2 and self.pnum and self.pno)

    @property
    def data_time(self) -> dt.datetime | None:
        """DataTime of CP as a naive local time (loggers send Beijing time)."""
        return parse_time(self.cp.get("DataTime"))

    @property
    def key(self) -> str:
        """What makes this packet the same packet when it is sent again: its QN, or for
        packets without one (2005 style) the command and DataTime."""
        return self.qn or f"{self.cn}@{self.cp.get('DataTime', '')}"

    def readings(self) -> list[Reading]:
        """The stored fields of each factor; a factor without a readable value is skipped."""
        return [
            Reading(code, float(value), _float(low), _float(high), _float(cou), flag)
            for code, value, low, high, cou, flag in self.stored()
        ]

    def stored(self) -> list[tuple[str, str, str | None, str | None, str | None, str]]:
        """What is stored of each factor, as checked decimal text: (factor, value, min, max,
        cou, flag). The receiver's hot path: the text goes to COPY as it came."""
        value_field, other = ("Rtd", "Avg") if self.cn == "2011" else ("Avg", "Rtd")
        out = []
        for code, fields in self.factors.items():
            value = _decimal(fields.get(value_field) or fields.get(other))
            if value is None:
                continue
            flag = (fields.get("Flag") or "N")[:1]
            if not (flag.isascii() and flag.isalnum()):
                flag = "?"  # not a flag of the standard: stored, never valid
            out.append(
                (
                    code,
                    value,
                    _decimal(fields.get("Min")),
                    _decimal(fields.get("Max")),
                    _decimal(fields.get("Cou")),
                    flag,
                )
            )
        return out


def _float(text: str | None) -> float | None:
    return None if text is None else float(text)


_NUMBER_START = frozenset("+-.0123456789")


def _decimal(text: str | None) -> str | None:
    """The text of a decimal number (no NaN, no infinity, no "1_0" or spaces), else None."""
    if not text or text[0] not in _NUMBER_START:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if "_" in text or not text.isascii() or text != text.strip():  # float() also takes these
        return None
    return text if value == value and abs(value) != float("inf") else None


def parse_time(text: str | None) -> dt.datetime | None:
    """YYYYMMDDhhmmss (extra digits, milliseconds, are ignored); None when unreadable."""
    if not text or len(text) < 14 or not text[:14].isdigit():
        return None
    try:
        return dt.datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14])
        )
    except ValueError:
        return None


_HEADER_KEYS = {"QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO"}


def parse_segment(data: bytes | str) -> Packet:
    """Read a data segment; raise PacketError saying what is missing or wrong."""
    text = data.decode("latin-1") if isinstance(data, bytes | bytearray) else data
    start = text.find("CP=&&")
    if start < 0:
        raise PacketError("no CP=&&")
    end = text.rfind("&&")
    if end < start + 5:
        raise PacketError("CP is not closed by &&")
    header: dict[str, str] = {}
    for item in text[:start].split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or key not in _HEADER_KEYS:
            raise PacketError(f"unexpected header item {item[:20]!r}")
        header[key] = value
    for required in ("ST", "CN", "MN"):
        if not header.get(required):
            raise PacketError(f"no {required}")
    qn, st, cn, mn = header.get("QN", ""), header["ST"], header["CN"], header["MN"]
    if qn and not (qn.isdigit() and len(qn) <= 20):
        raise PacketError("QN is not a number")
    if not (st.isdigit() and len(st) <= 3) or not (cn.isdigit() and len(cn) == 4):
        raise PacketError("ST or CN is not a number")
    if len(mn) > 64 or len(header.get("PW", "")) > 64:
        raise PacketError("MN or PW too long")
    flag = _small_int(header.get("Flag"), "Flag", 255)
    packet = Packet(
        qn=qn,
        st=st,
        cn=cn,
        pw=header.get("PW", ""),
        mn=mn,
        flag=flag,
        pnum=_small_int(header.get("PNUM"), "PNUM", 9999),
        pno=_small_int(header.get("PNO"), "PNO", 9999),
        cp_text=text[start + 5 : end],
    )
    _read_cp(packet)
    if packet.is_split and packet.pno > packet.pnum:
        raise PacketError("PNO beyond PNUM")
    return packet


def _small_int(text: str | None, name: str, maximum: int) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) > maximum:
        raise PacketError(f"{name} is not a number")
    return int(text)


def _read_cp(packet: Packet) -> None:
    factors, cp = packet.factors, packet.cp
    for part in _CP_SEPARATORS.split(packet.cp_text):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise PacketError(f"CP item without '=': {part[:20]!r}")
        code, dash, name = key.rpartition("-")
        # "w01018-Avg": a factor's field (code of 1–20 letters or digits, field of letters)
        short = 0 < len(code) <= 20 and 0 < len(name) <= 16
        if dash and short and key.isascii() and code.isalnum() and name.isalpha():
            fields = factors.get(code)
            if fields is None:
                fields = factors[code] = {}
            fields[name] = value
        else:
            cp[key] = value


def merge_parts(parts: Iterable[Packet]) -> Packet:
    """One packet from the parts of a split packet (PNO 1…PNUM, any order).

    Each part repeats DataTime; the others' items are added in part order.
    """
    ordered = sorted(parts, key=lambda p: p.pno or 0)
    first = ordered[0]
    merged = Packet(qn=first.qn, st=first.st, cn=first.cn, pw=first.pw, mn=first.mn, flag=first.flag & ~2 & 0xFF)
    texts = []
    for part in ordered:
        texts.append(part.cp_text)
        for key, value in part.cp.items():
            merged.cp.setdefault(key, value)
        for code, fields in part.factors.items():
            merged.factors.setdefault(code, {}).update(fields)
    merged.cp_text = ";".join(texts)
    return merged


# --- Building segments and replies -------------------------------------------------------------


def segment(
    *,
    qn: str,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    flag: int | None,
    cp: str,
    pnum: int | None = None,
    pno: int | None = None,
) -> str:
    """The data segment text for the given fields (CP's inner text without the && marks)."""
    head = [f"QN={qn}"] if qn else []
    head += [f"ST={st}", f"CN={cn}", f"PW={pw}", f"MN={mn}"]
    if flag is not None:
        head.append(f"Flag={flag}")
    if pnum is not None:
        head += [f"PNUM={pnum}", f"PNO={pno}"]
    return ";".join(head) + f";CP=&&{cp}&&"


def reply_9014(packet: Packet) -> bytes:
    """数据应答: the same QN, ST=91, Flag=4, an empty CP."""
    return encode_frame(segment(qn=packet.qn, st="91", cn="9014", pw=packet.pw, mn=packet.mn, flag=4, cp=""))


def reply_9011(packet: Packet, qn_rtn: int) -> bytes:
    """请求应答 with QnRtn (3: wrong PW, 4: unknown MN)."""
    return encode_frame(
        segment(qn=packet.qn, st="91", cn="9011", pw=packet.pw, mn=packet.mn, flag=4, cp=f"QnRtn={qn_rtn}")
    )


def data_cp(data_time: dt.datetime, readings: Iterable[tuple[str, dict[str, object]]]) -> str:
    """CP text for uploads: DataTime then each factor's fields (a logger's side, for simulators)."""
    items = [f"DataTime={data_time:%Y%m%d%H%M%S}"]
    for code, fields in readings:
        items.append(",".join(f"{code}-{name}={value}" for name, value in fields.items()))
    return ";".join(items)
