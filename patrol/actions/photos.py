"""Photos: stored once under the SHA-256 of the uploaded bytes, kept only as a re-encoded copy.

The upload is decoded, turned upright, resized and written again as a JPEG without any
metadata; the bytes as sent (full EXIF with GPS, anything appended after the image) are never
written to disk, so neither the media folder nor a backup holds them (issue 12). GPS position
and capture time are read first and kept as data on the row.

A photo is attached to a case (or a step of one) by its hash; only its uploader, or someone
who may already see it, may attach it: knowing a hash is not a right to its picture.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Sequence

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from gridgov.errors import InvalidInput, PayloadTooLarge

from ..conf import setting
from ..models import Photo
from ..selectors import photo_visible

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "MPO", "GIF")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _malformed(field: str, why: str) -> InvalidInput:
    log.info("photo refused, malformed EXIF: %s", why)
    return InvalidInput(_("照片的 EXIF 元数据已损坏，无法确认拍摄位置和时间。"), code="malformed_exif", field=field)


def _deg(value) -> float:
    d, m, s = (float(x) for x in value)
    return d + m / 60 + s / 3600


def _exif_data(img, *, field: str = "photo") -> tuple[Point | None, dt.datetime | None, dict]:
    """Read GPS position and capture time from EXIF; keep a small summary as data.

    A photo whose EXIF block is present but broken (offsets past its end, an impossible
    orientation, tags Pillow has to skip) is refused: its GPS and time could not be trusted,
    and cameras and phones do not write such blocks. A photo without EXIF is fine.
    """
    if not img.info.get("exif"):
        return None, None, {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif = img.getexif()
            ifds = {ifd: exif.get_ifd(ifd) for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)}
        except Exception as exc:  # Pillow raises many kinds on a broken block; all mean "malformed"
            raise _malformed(field, type(exc).__name__)
    if caught:
        raise _malformed(field, str(caught[0].message)[:80])
    orientation = exif.get(ExifTags.Base.Orientation)
    if orientation is not None and orientation not in range(1, 9):
        raise _malformed(field, f"Orientation {orientation!r}")
    for pointer, ifd in ((ExifTags.Base.ExifOffset, ExifTags.IFD.Exif), (ExifTags.Base.GPSInfo, ExifTags.IFD.GPSInfo)):
        if pointer in exif and not ifds[ifd]:
            raise _malformed(field, f"{ExifTags.TAGS.get(pointer, pointer)} points outside the block")
    summary: dict = {}
    for tag in (ExifTags.Base.Make, ExifTags.Base.Model, ExifTags.Base.Orientation, ExifTags.Base.DateTime):
        if tag in exif:
            summary[tag.name] = str(exif[tag])[:64]
    taken = None
    try:
        raw = ifds[ExifTags.IFD.Exif].get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if raw:
            taken = timezone.make_aware(dt.datetime.strptime(str(raw).strip("\x00"), "%Y:%m:%d %H:%M:%S"))
            summary["DateTimeOriginal"] = str(raw)[:32]
    except (ValueError, TypeError):
        taken = None  # an unreadable time is only a missing time
    point = None
    gps = ifds[ExifTags.IFD.GPSInfo]
    if gps and 2 in gps and 4 in gps:
        try:
            lat, lon = _deg(gps[2]), _deg(gps[4])
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            raise _malformed(field, f"GPS position unreadable ({type(exc).__name__})")
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            point = Point(lon, lat, srid=settings.GRIDGOV_SRID)
            summary["GPS"] = {"lat": round(lat, 7), "lon": round(lon, 7)}
    return point, taken, summary


def check_photo_size(size: int, *, field: str = "photo") -> None:
    """Refuse an upload over the size limit (413), before its bytes are read."""
    limit = setting("PATROL_PHOTO_MAX_BYTES")
    if size > limit:
        raise PayloadTooLarge(
            _("照片超过 %(mb)s MB 的大小限制。") % {"mb": limit // (1024 * 1024) or 1}, code="too_large", field=field
        )


def _decode(data: bytes, *, field: str):
    """Open the upload as an image of a supported format, every byte decoded; (image, format)."""
    Image.MAX_IMAGE_PIXELS = setting("PATROL_PHOTO_MAX_PIXELS")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        img = Image.open(io.BytesIO(data))
        img.load()  # decodes every byte: a truncated file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise InvalidInput(_("照片不是可识别的图片。"), code="not_an_image", field=field)
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput(_("照片已损坏或不完整。"), code="corrupt_image", field=field)
    if fmt not in FORMATS:
        raise InvalidInput(_("照片应为 JPEG、PNG 或 WebP 格式。"), code="unsupported_format", field=field)
    return img, fmt


def photo_store(*, data: bytes, uploaded_by=None, field: str = "photo") -> tuple[Photo, bool]:
    """Store an uploaded photo under its SHA-256; return (photo, created). Retries are free."""
    if not data:
        raise InvalidInput(_("照片为空。"), code="empty", field=field)
    check_photo_size(len(data), field=field)
    sha = hashlib.sha256(data).hexdigest()
    existing = Photo.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing, False
    img, fmt = _decode(data, field=field)
    point, taken, summary = _exif_data(img, field=field)
    upright = ImageOps.exif_transpose(img)
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    side = setting("PATROL_PHOTO_MAX_SIDE")
    upright.thumbnail((side, side))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=82, optimize=True)  # no exif= argument: metadata stripped
    photo = Photo(
        sha256=sha,
        size_bytes=len(data),
        content_type=f"image/{fmt.lower()}",
        exif_point=point,
        exif_taken_at=taken,
        exif=summary,
        width=upright.width,
        height=upright.height,
        uploaded_by=uploaded_by if getattr(uploaded_by, "is_authenticated", False) else None,
    )
    photo.image.save(f"{sha}.jpg", ContentFile(out.getvalue()), save=False)
    try:
        with transaction.atomic():
            photo.full_clean(exclude=["image"])
            photo.save(force_insert=True)
    except IntegrityError:  # the same bytes arrived concurrently: one row, as intended
        return Photo.objects.get(sha256=sha), False
    return photo, True


def photos_for(hashes: Sequence[str], *, actor, field: str = "photo_hashes") -> list[Photo]:
    """The photos named by hash that `actor` may attach: uploaded by them, or visible to them.

    Any other hash (never uploaded, or someone else's photo of a case the actor cannot see)
    answers the same way: as a photo not uploaded yet.
    """
    hashes = list(dict.fromkeys(h.lower() for h in hashes if h))
    limit = setting("PATROL_MAX_PHOTOS")
    if len(hashes) > limit:
        raise InvalidInput(_("照片最多 %(n)s 张。") % {"n": limit}, code="too_many", field=field)
    if any(not SHA256_HEX.fullmatch(h) for h in hashes):
        raise InvalidInput(_("照片编号应为 SHA-256 十六进制串。"), code="invalid", field=field)
    photos = list(Photo.objects.filter(sha256__in=hashes))
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    mine = [p for p in photos if actor_id is not None and p.uploaded_by_id == actor_id]
    others = [p for p in photos if p not in mine]
    allowed = mine + [p for p in others if actor_id is not None and photo_visible(photo=p, user=actor)]
    if len(allowed) < len(hashes):
        raise InvalidInput(_("有照片尚未上传，请先上传照片。"), code="photo_not_uploaded", field=field)
    return allowed
