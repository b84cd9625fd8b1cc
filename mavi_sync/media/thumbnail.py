"""A still of a clip at a moment, as a small JPEG: what a search hit shows beside its segment
(the status page's search, issue 27), made here from the file, not fetched from the server.

The frame shown is the first one at or after the moment (a seek lands on the key frame
before it; frames are decoded on from there). A moment past the end gives the last frame.
"""

from __future__ import annotations

import io
import os

from mavi_sync.errors import ConversionError

MAX_DECODED = 2000  # frames decoded past the key frame at most (a long GOP): then the last one is shown


def still_at(path: "str | os.PathLike[str]", seconds: float, width: int = 320, quality: int = 80) -> bytes:
    """A JPEG `width` pixels wide of `path` at `seconds`. Raises ConversionError when the
    file has no video a frame can be read from."""
    import av  # PyAV, as the prober uses it; imported only by whoever makes stills
    try:
        with av.open(os.fspath(path)) as container:
            if not container.streams.video:
                raise ConversionError(f"{path}: no video stream")
            stream = container.streams.video[0]
            if stream.time_base is not None and seconds > 0:
                container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
            frame = None
            for n, frame in enumerate(container.decode(stream)):
                if (frame.time or 0.0) >= seconds or n >= MAX_DECODED:
                    break
            if frame is None:
                raise ConversionError(f"{path}: no frame could be decoded")
            image = frame.to_image()
    except av.FFmpegError as exc:
        raise ConversionError(f"{path}: cannot be read as video ({exc})") from None
    image.thumbnail((width, width * 4))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
