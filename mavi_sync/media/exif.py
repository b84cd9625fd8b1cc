"""Image metadata through Pillow (+ pillow-heif): EXIF, XMP and IPTC.

Cameras write broken EXIF all the time; every read here is guarded so a bad tag
loses that tag, never the file. Decoding errors of the pixel data are reported
as a refusal, because the server would store a broken image.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from typing import Any, Optional

from PIL import ExifTags, Image, IptcImagePlugin, UnidentifiedImageError

from mavi_sync.media import boxes, flir
from mavi_sync.media.motion import find_clip, probe_clip
from mavi_sync.media.pairs import apple_content_id
from mavi_sync.media.model import MediaInfo, Taken
from mavi_sync.media.sniff import Kind
from mavi_sync.media.values import clean_text, dms_to_degrees, parse_datetime, valid_position

try:  # HEIC/HEIF support; without it HEIC files are refused with a clear reason.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency
    pillow_heif = None

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "webp": "WEBP",
                "tiff": "TIFF", "heif": "HEIF", "avif": "AVIF"}
_XMP_MAX = 1 << 20
_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
_IPTC_KEYWORDS = (2, 25)
_BOXED = {"heif", "avif"}  # ISO base media files: whole only if their boxes end in the file
_TRUNCATED = "image data is truncated (the file was cut short)"
_BOMB = "image claims more pixels than any camera makes: refused as a decompression bomb"
T = ExifTags.Base
G = ExifTags.GPS


def read_image(path: str, size: int, kind: Kind) -> MediaInfo:
    """Probe an image file; pixel-data errors become a refusal, metadata errors a note."""
    notes: list[str] = []
    if kind.format in _BOXED:
        with open(path, "rb") as fh:
            if boxes.cut_short(fh, size):
                return MediaInfo(path=path, size=size, kind=kind, refusal=_TRUNCATED)
    with warnings.catch_warnings():
        # DecompressionBombWarning and "Corrupt EXIF" warnings are handled as data here.
        warnings.simplefilter("ignore")
        try:
            im = Image.open(path, formats=[_PIL_FORMATS[kind.format]])
        except Image.DecompressionBombError:
            return MediaInfo(path=path, size=size, kind=kind, refusal=_BOMB)
        except UnidentifiedImageError:
            return MediaInfo(path=path, size=size, kind=kind,
                             refusal=f"the {kind.format.upper()} header is damaged: the image cannot be opened")
        with im:
            width, height = im.size
            refusal = _decode_check(im)
            fields = _exif_fields(im, notes)
            packet = _xmp_packet(im)
            xmp = _xmp_fields(packet, notes)
            keywords = _dedupe(xmp.pop("keywords", []) + _iptc_keywords(im))
            vendor = flir.taken(getattr(im, "applist", ())) if im.format == "JPEG" else None
    taken = fields.get("taken") or xmp.get("taken") or vendor
    motion = _motion(path, size, packet, notes) if kind.format == "jpeg" and refusal is None else {}
    return MediaInfo(
        path=path, size=size, kind=kind, refusal=refusal, width=width, height=height,
        orientation=fields.get("orientation"), taken=taken,
        make=fields.get("make") or xmp.get("make"), model=fields.get("model") or xmp.get("model"),
        position=fields.get("position"), keywords=tuple(keywords), notes=tuple(notes),
        content_id=fields.get("content_id"), **motion,
    )


def _motion(path: str, size: int, packet: Optional[bytes], notes: list[str]) -> dict[str, Any]:
    """An Android motion photo's clip, as MediaInfo fields (media/motion.py)."""
    try:
        clip = find_clip(path, size, packet)
        if clip is None:
            return {}
        about = probe_clip(path, clip)
    except Exception as exc:  # noqa: BLE001 - a clip that cannot be read leaves the still as it is
        notes.append(f"a motion photo whose clip cannot be read ({exc.__class__.__name__}): the still is sent")
        return {}
    return {"motion_offset": clip.offset, "motion_size": clip.size, "motion_codec": about.codec,
            "motion_duration_s": about.duration_s}


def _decode_check(im: Image.Image) -> Optional[str]:
    """None when the pixel data decodes; a reason otherwise. JPEGs decode at 1/8 scale
    (draft mode) which still reads every scan but costs a fraction of a full decode."""
    try:
        if im.format == "JPEG":
            im.draft("RGB", (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
        im.load()
    except Image.DecompressionBombError:
        return _BOMB
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, MemoryError) as exc:
        text = str(exc).lower()
        if "truncated" in text:
            return _TRUNCATED
        return f"image data is corrupt and cannot be decoded ({exc.__class__.__name__})"
    return None


def _exif_fields(im: Image.Image, notes: list[str]) -> dict[str, Any]:
    try:
        exif = im.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on broken EXIF
        notes.append(f"EXIF unreadable ({exc.__class__.__name__}): metadata ignored")
        return {}
    out: dict[str, Any] = {"make": clean_text(exif.get(T.Make)), "model": clean_text(exif.get(T.Model))}
    orientation = exif.get(T.Orientation)
    if isinstance(orientation, int) and 1 <= orientation <= 8:
        out["orientation"] = orientation
    for text_tag, sub_tag, offset_tag, where in (
        (T.DateTimeOriginal, T.SubsecTimeOriginal, T.OffsetTimeOriginal, sub),
        (T.DateTimeDigitized, T.SubsecTimeDigitized, T.OffsetTimeDigitized, sub),
        (T.DateTime, T.SubsecTime, T.OffsetTime, exif),
    ):
        when = parse_datetime(where.get(text_tag), where.get(sub_tag), sub.get(offset_tag))
        if when is not None:
            out["taken"] = Taken(when, "exif")
            break
    out["position"] = _gps(gps, notes)
    out["content_id"] = apple_content_id(sub.get(T.MakerNote))
    return out


def _gps(gps: Any, notes: list[str]) -> Optional[tuple[float, float]]:
    if not gps:
        return None
    lat = dms_to_degrees(gps.get(G.GPSLatitude), gps.get(G.GPSLatitudeRef))
    lon = dms_to_degrees(gps.get(G.GPSLongitude), gps.get(G.GPSLongitudeRef))
    position = valid_position(lat, lon)
    if position is None and lat is not None and lon is not None:
        notes.append(f"GPS {lat:.6f}, {lon:.6f} is not a real position (out of range or an empty 0,0 fix): not sent")
    elif position is None and (G.GPSLatitude in gps or G.GPSLongitude in gps):
        notes.append("GPS present but unreadable (zero denominators or missing half): not sent")
    return position


def _xmp_packet(im: Image.Image) -> Optional[bytes]:
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if raw is None and im.format == "TIFF":
        raw = getattr(im, "tag_v2", {}).get(700)
    if raw is None and im.format == "GIF":
        raw = _gif_xmp(getattr(im, "filename", ""))
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    if isinstance(raw, (bytes, bytearray)) and 0 < len(raw) <= _XMP_MAX:
        return bytes(raw)
    return None


_GIF_XMP = b"\x21\xff\x0bXMP DataXMP"  # the application extension Adobe's XMP spec defines for GIF


def _gif_xmp(path: str) -> Optional[bytes]:
    """A GIF's XMP (Pillow does not read it). The spec stores the packet raw in the extension's
    sub-blocks, so that the bytes from the header to `</x:xmpmeta>` are the XML itself."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4 * _XMP_MAX)
    except (OSError, TypeError):
        return None
    start = head.find(_GIF_XMP)
    end = head.find(b"</x:xmpmeta>", start)
    return head[start + len(_GIF_XMP):end + 12] if start >= 0 and end > start else None


def _xmp_fields(packet: Optional[bytes], notes: list[str]) -> dict[str, Any]:
    if packet is None:
        return {}
    start, end = packet.find(b"<x:xmpmeta"), packet.rfind(b"</x:xmpmeta>")
    body = packet[start:end + 12] if start >= 0 and end > start else packet
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        notes.append("XMP packet is not valid XML: ignored")
        return {}
    out: dict[str, Any] = {"keywords": []}
    for bag in root.iter(f"{{{_NS['dc']}}}subject"):
        for li in bag.iter(f"{{{_NS['rdf']}}}li"):
            # Some tools write one item holding "a, b, c" instead of one item per keyword.
            out["keywords"] += [clean_text(part) for part in (li.text or "").split(",")]
    for name in ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate"):
        prefix, local = name.split(":")
        value = _xmp_value(root, _NS[prefix], local)
        when = parse_datetime(value)
        if when is not None:
            out["taken"] = Taken(when, "xmp")
            break
    out["make"] = clean_text(_xmp_value(root, "http://ns.adobe.com/tiff/1.0/", "Make"))
    out["model"] = clean_text(_xmp_value(root, "http://ns.adobe.com/tiff/1.0/", "Model"))
    out["keywords"] = [k for k in out["keywords"] if k]
    return out


def _xmp_value(root: ET.Element, ns: str, local: str) -> Optional[str]:
    """A property written either as an attribute or as an element."""
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        if f"{{{ns}}}{local}" in desc.attrib:
            return desc.attrib[f"{{{ns}}}{local}"]
        element = desc.find(f"{{{ns}}}{local}")
        if element is not None and element.text:
            return element.text
    return None


def _iptc_keywords(im: Image.Image) -> list[str]:
    if im.format not in ("JPEG", "TIFF"):
        return []
    try:
        info = IptcImagePlugin.getiptcinfo(im) or {}
    except Exception:  # noqa: BLE001 - broken IPTC blocks raise assorted errors
        return []
    raw = info.get(_IPTC_KEYWORDS, [])
    items = raw if isinstance(raw, list) else [raw]
    return [k for k in (_iptc_text(x) for x in items) if k]


def _iptc_text(raw: bytes) -> Optional[str]:
    text = clean_text(raw)
    if text is None and isinstance(raw, bytes):
        text = clean_text(raw.decode("latin-1"))  # IPTC without a UTF-8 coded-character-set marker
    return text


def _dedupe(items: list[Optional[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.lower() not in (k.lower() for k in seen):
            seen[item] = None
    return list(seen)
