"""Real media files written on demand (Pillow, PyAV) for the tests and `make demo`.

The project ships no media: everything a test or the demo needs is encoded here,
with exactly the metadata the caller asks for, so expectations are known.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

import av
from PIL import ExifTags, Image

_XMP_TEMPLATE = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>{items}</rdf:Bag>'
    "</dc:subject></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
)
_PIL_SAVE = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF",
             ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".heic": "HEIF", ".avif": "AVIF"}
_WITH_METADATA = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF")  # Pillow can't write EXIF sub-IFDs into TIFF


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


@dataclass(frozen=True)
class ImageSpec:
    make: Optional[str] = None
    model: Optional[str] = None
    taken: Optional[str] = None  # "YYYY:MM:DD HH:MM:SS"
    subsec: Optional[str] = None
    offset: Optional[str] = None  # "+02:00"
    gps: Optional[tuple[float, float]] = None
    orientation: Optional[int] = None
    keywords: Sequence[str] = ()
    size: tuple[int, int] = (64, 48)
    color: tuple[int, int, int] = (200, 120, 40)
    icc: Optional[bytes] = None  # an ICC profile to embed (phones: Display P3)
    mark: bool = False  # a blue block in the top-left corner: shows which way up it is
    content_id: Optional[str] = None  # an Apple maker note with this Live Photo identifier


def _exif(spec: ImageSpec) -> Image.Exif:
    exif = Image.Exif()
    base = ExifTags.Base
    for tag, value in ((base.Make, spec.make), (base.Model, spec.model), (base.Orientation, spec.orientation)):
        if value:
            exif[tag] = value
    sub: dict[int, object] = {tag: value for tag, value in (
        (base.DateTimeOriginal, spec.taken), (base.SubsecTimeOriginal, spec.subsec),
        (base.OffsetTimeOriginal, spec.offset)) if value}
    if spec.content_id:
        sub[base.MakerNote] = apple_maker_note(spec.content_id)
    if sub:
        exif[ExifTags.IFD.Exif] = sub
    if spec.gps:
        lat, lon = spec.gps
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S", ExifTags.GPS.GPSLatitude: _dms(lat),
            ExifTags.GPS.GPSLongitudeRef: "E" if lon >= 0 else "W", ExifTags.GPS.GPSLongitude: _dms(lon),
        }
    return exif


def apple_maker_note(content_id: str) -> bytes:
    """An Apple maker note as iPhones write it, holding only the Live Photo identifier (0x11)."""
    text = content_id.encode("ascii") + b"\0"
    head = b"Apple iOS\0" + b"\0\x01" + b"MM"
    offset = len(head) + 2 + 12 + 4
    entry = struct.pack(">HHII", 0x11, 2, len(text), offset)
    return head + struct.pack(">H", 1) + entry + b"\0\0\0\0" + text


def write_image(path: Path, spec: ImageSpec = ImageSpec(), *, fmt: Optional[str] = None) -> Path:
    """An image with the given EXIF/XMP; the format follows the suffix unless `fmt` is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", spec.size, spec.color)
    if spec.mark:
        image.paste((0, 0, 255), (0, 0, spec.size[0] // 2, spec.size[1] // 4))
    save_as = fmt or _PIL_SAVE[path.suffix.lower()]
    if save_as == "HEIF":
        import pillow_heif  # registers the HEIF writer with Pillow
        pillow_heif.register_heif_opener()
    kwargs: dict[str, object] = {}
    if save_as in _WITH_METADATA:
        # (HEIF: pillow-heif turns an EXIF orientation into HEIF's own rotation, as phones write it)
        kwargs["exif"] = _exif(spec).tobytes() if save_as in ("HEIF", "AVIF") else _exif(spec)
    if spec.icc:
        kwargs["icc_profile"] = spec.icc
    if spec.keywords and save_as in _WITH_METADATA:
        items = "".join(f"<rdf:li>{k}</rdf:li>" for k in spec.keywords)
        kwargs["xmp"] = _XMP_TEMPLATE.format(items=items).encode()
    if save_as == "GIF":
        image = image.convert("P")
    image.save(path, save_as, **kwargs)
    return path


@dataclass(frozen=True)
class VideoSpec:
    codec: str = "libx264"
    seconds: float = 1.0
    fps: int = 10
    size: tuple[int, int] = (64, 48)
    creation_time: Optional[str] = None  # ISO, UTC: "2025-10-20T09:00:00.000000Z"
    location: Optional[str] = None  # ISO 6709: "+52.5200+013.4050/"
    apple_creationdate: Optional[str] = None  # "2025-10-20T11:00:00+0200"
    content_id: Optional[str] = None  # com.apple.quicktime.content.identifier (Live Photo)
    make: Optional[str] = None
    model: Optional[str] = None
    audio: bool = False


def _metadata(spec: VideoSpec, apple: bool) -> dict[str, str]:
    meta: dict[str, str] = {}
    if spec.creation_time:
        meta["creation_time"] = spec.creation_time
    if apple:
        for key, value in (("com.apple.quicktime.location.ISO6709", spec.location),
                           ("com.apple.quicktime.creationdate", spec.apple_creationdate),
                           ("com.apple.quicktime.make", spec.make), ("com.apple.quicktime.model", spec.model),
                           ("com.apple.quicktime.content.identifier", spec.content_id)):
            if value:
                meta[key] = value
    elif spec.location:
        meta["location"] = spec.location
    return meta


def write_video(path: Path, spec: VideoSpec = VideoSpec()) -> Path:
    """A real encoded video (container from the suffix) with the given tags."""
    path.parent.mkdir(parents=True, exist_ok=True)
    apple = path.suffix.lower() == ".mov"
    options = {"movflags": "use_metadata_tags"} if apple else {}
    with av.open(str(path), "w", options=options) as container:
        container.metadata.update(_metadata(spec, apple))
        stream = container.add_stream(spec.codec, rate=spec.fps)
        stream.width, stream.height = spec.size
        stream.pix_fmt = "yuv420p"
        if spec.codec == "libx265":
            stream.options = {"x265-params": "log-level=none"}
        audio = container.add_stream("aac", rate=8000) if spec.audio else None
        frames = max(1, int(spec.seconds * spec.fps))
        for i in range(frames):
            shade = (i * 37) % 256
            frame = av.VideoFrame.from_image(Image.new("RGB", spec.size, (shade, 255 - shade, 90)))
            frame.pts = i
            frame.time_base = Fraction(1, spec.fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio is not None:
            _write_silence(container, audio, spec.seconds)
    return path


def _write_silence(container: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    samples = 1024
    for i in range(max(1, int(seconds * 8000 / samples))):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 8000
        frame.pts = i * samples
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def grown_video(path: Path, size: int, marker: str) -> Path:
    """A valid MP4 of exactly `size` bytes: a real clip, then a top-level `free` box left
    sparse (no disk used; it reads as zeros). `marker` makes each one distinct."""
    clip = write_video(path.with_suffix(".clip.mp4"), VideoSpec(seconds=1.0))
    head = clip.read_bytes()
    clip.unlink()
    box = size - len(head)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.write(struct.pack(">I4sQ", 1, b"free", box))  # 64-bit box size: files over 4 GB
        fh.write(marker.encode())
        fh.truncate(size)
    return path


_MOTION_XMP = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" '
    'xmlns:Container="http://ns.google.com/photos/1.0/container/" '
    'xmlns:Item="http://ns.google.com/photos/1.0/container/item/" {flags}>'
    '<Container:Directory><rdf:Seq>'
    '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" '
    'Item:Length="0" Item:Padding="0"/></rdf:li>'
    '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" '
    'Item:Length="{length}" Item:Padding="0"/></rdf:li>'
    '</rdf:Seq></Container:Directory></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
MOTION_STYLES = ("google", "microvideo", "samsung")


def write_motion_photo(path: Path, spec: ImageSpec = ImageSpec(), *, style: str = "google",
                       clip: VideoSpec = VideoSpec(seconds=1)) -> tuple[Path, bytes]:
    """An Android motion photo: a JPEG with an MP4 appended, announced the way `style`'s phones
    do (Google's MotionPhoto XMP, its older MicroVideo XMP, or Samsung's marker and SEFT
    trailer). Returns the path and the clip's bytes."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        movie = write_video(Path(tmp) / "clip.mp4", clip).read_bytes()
    write_image(path, spec, fmt="JPEG")
    still = path.read_bytes()
    if style == "samsung":
        trailer = b"MotionPhoto_Data" + movie + b"\x00\x00" + b"SEFH" + struct.pack("<I", 0) + b"SEFT"
        path.write_bytes(still + trailer)
        return path, movie
    flags = ('GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1"' if style == "google" else
             f'GCamera:MicroVideo="1" GCamera:MicroVideoVersion="1" GCamera:MicroVideoOffset="{len(movie)}"')
    xmp = _MOTION_XMP.format(flags=flags, length=len(movie)).encode()
    with Image.open(path) as im:
        exif, pixels = im.getexif(), im.copy()
    pixels.save(path, "JPEG", exif=exif, xmp=xmp, quality=95)
    path.write_bytes(path.read_bytes() + movie)
    return path, movie
