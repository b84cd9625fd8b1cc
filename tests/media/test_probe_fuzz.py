"""The prober on mutated real files (bytes flipped, cut, inserted, zeroed): it returns a
result or a refusal, never raises, never hangs. Seeds are files written here by Pillow and
PyAV, plus the real-camera corpus when it is there. MAVI_RELIABILITY=full runs more cases."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Iterator, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mavi_sync.media.model import MediaInfo
from mavi_sync.media.probe import probe
from mavi_sync.dev.samples import ImageSpec, VideoSpec, write_image, write_video
from tests.conftest import CORPUS

EXAMPLES = 5000 if os.environ.get("MAVI_RELIABILITY") == "full" else 400
HANG_S = 20.0


def _seeds(root: Path) -> list[bytes]:
    # A directory of this process's own: each pytest-xdist worker imports this module, and two
    # writing the same files at once left one reading a file the other had just truncated.
    root = root / str(os.getpid())
    root.mkdir(parents=True, exist_ok=True)
    made = [write_image(root / "a.jpg", ImageSpec(taken="2024:01:01 10:00:00", make="Cam", model="X",
                                                  gps=(52.5, 13.4), keywords=("k",))),
            write_image(root / "b.png", ImageSpec()),
            write_video(root / "c.mp4", VideoSpec(seconds=1, creation_time="2024-01-01T10:00:00Z", make="M")),
            write_video(root / "d.mov", VideoSpec(seconds=1, apple_creationdate="2024-01-01T10:00:00+0100")),
            write_video(root / "e.mkv", VideoSpec(seconds=1)),
            write_video(root / "f.webm", VideoSpec(codec="libvpx-vp9", seconds=1))]
    seeds = [p.read_bytes() for p in made]
    shutil.rmtree(root, ignore_errors=True)
    if (CORPUS / "MANIFEST.tsv").exists():
        small = sorted((p for p in CORPUS.rglob("*") if p.is_file() and p.suffix and 0 < p.stat().st_size < 2_000_000),
                       key=lambda p: p.as_posix())
        seeds += [p.read_bytes() for p in small[:: max(1, len(small) // 12)]]
    return seeds


SEEDS = _seeds(Path(__file__).resolve().parents[2] / ".pytest_cache" / "fuzz-seeds")
SUFFIXES = (".jpg", ".png", ".mp4", ".mov", ".mkv", ".webm", ".heic", ".bin")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(("flip", "cut", "insert", "zero", "repeat")))
        if how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "cut":
            del data[at:]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif how == "zero":
            n = draw(st.integers(1, 4096))
            data[at:at + n] = bytes(len(data[at:at + n]))
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 2048))] * draw(st.integers(1, 8))
    return bytes(data), draw(st.sampled_from(SUFFIXES))


def _probe_guarded(path: Path) -> tuple[Optional[MediaInfo], Optional[BaseException], bool]:
    """probe() on a thread: (result, what it raised, whether it finished within HANG_S)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["info"] = probe(path)
        except BaseException as exc:  # the property: nothing escapes
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_S)
    return box.get("info"), box.get("error"), not worker.is_alive()  # type: ignore[return-value]


RAN = {"cases": 0, "refused": 0}


@pytest.fixture(scope="module", autouse=True)
def fuzz_figures() -> Iterator[None]:
    yield
    from tests.e2e.stream import record_figures
    record_figures("prober fuzz", files=RAN["cases"], lost="-", seeds=len(SEEDS), refused=RAN["refused"],
                   raised=0, hung=0)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_the_prober_returns_a_result_or_a_refusal_on_any_mutation(case: tuple[bytes, str], tmp_path: Path) -> None:
    data, suffix = case
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    info, error, finished = _probe_guarded(path)
    assert finished, f"probe hung over {HANG_S:g} s on a {len(data)}-byte {suffix}"
    assert error is None, f"probe raised {error!r}"
    assert isinstance(info, MediaInfo)
    assert info.kind is not None or info.refusal, "neither a result nor a refusal"
    RAN["cases"] += 1
    RAN["refused"] += info.refusal is not None


def test_the_generated_seeds_are_good_media(tmp_path: Path) -> None:
    """Mutations start from valid files (else the fuzz would only ever see garbage)."""
    for i, data in enumerate(SEEDS[:6]):
        path = tmp_path / f"seed{i}{SUFFIXES[i]}"
        path.write_bytes(data)
        info = probe(path)
        assert info.kind is not None and info.refusal is None, (path.name, info.refusal)
