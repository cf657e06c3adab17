"""Frames of a clip: a video file or a folder of images, read as ``(H, W, 3)`` uint8 RGB.

Videos (``.mp4``, ``.avi``, ``.mov``, ``.mkv``, ``.webm``) are decoded by the ffmpeg binary that the
``imageio-ffmpeg`` package ships (no system ffmpeg needed); ffmpeg applies the file's rotation metadata, so frames
come out upright. Image folders hold ``.png`` / ``.jpg`` / ``.jpeg`` files, taken in natural name order
(``frame2.png`` before ``frame10.png``); their frame rate is not stored anywhere and is an argument.

:func:`write_video` writes an H.264 ``.mp4`` atomically.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..atomic import atomic_path
from ..errors import InputFileError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Frame rate of an image folder when none is given, frames per second.
DEFAULT_FPS = 30.0


def natural_key(name: str) -> tuple:
    """Sort key that orders digit runs by value: ``f2`` < ``f10``."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name))


class _VideoCursor:
    """A sequential ffmpeg reader positioned at frame ``pos``; restarted when an earlier frame is asked for."""

    def __init__(self, path: Path, size: tuple[int, int]):
        self.path, self.size = path, size
        self.gen = None
        self.pos = 0
        self.lock = threading.Lock()

    def _restart(self) -> None:
        import imageio_ffmpeg

        self.close()
        self.gen = imageio_ffmpeg.read_frames(str(self.path))
        next(self.gen)  # metadata
        self.pos = 0

    def close(self) -> None:
        if self.gen is not None:
            self.gen.close()
            self.gen = None

    def get(self, i: int) -> np.ndarray:
        with self.lock:
            if self.gen is None or i < self.pos:
                self._restart()
            w, h = self.size
            while True:
                try:
                    buf = next(self.gen)
                except StopIteration:
                    self.close()
                    raise InputFileError(self.path, f"frame {i} could not be decoded (video ended at {self.pos})") \
                        from None
                self.pos += 1
                if self.pos - 1 == i:
                    return _video_frame(self.path, buf, w, h, i)


def _video_frame(path: Path, buf: bytes, w: int, h: int, i: int) -> np.ndarray:
    if len(buf) != w * h * 3:
        raise InputFileError(path, f"frame {i} has {len(buf)} bytes; a {w}x{h} RGB frame has {w * h * 3}")
    return np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)


@dataclass(frozen=True)
class Frames:
    """The frames of one clip.

    Attributes:
        path: the video file or image folder.
        n_frames: number of frames ``T`` (> 0).
        fps: frames per second.
        size: ``(W, H)`` pixels, the same for every frame.
        names: ``T`` per-frame ids: the image file names of a folder, ``"000000"``, ``"000001"``, ... for a video.
        files: ``T`` image paths of a folder; empty for a video.
    """

    path: Path
    n_frames: int
    fps: float
    size: tuple[int, int]
    names: tuple[str, ...]
    files: tuple[Path, ...] = ()
    _cursor: _VideoCursor | None = field(default=None, repr=False, compare=False)

    def get(self, i: int) -> np.ndarray:
        """Frame ``i`` (0-based) as ``(H, W, 3)`` uint8 RGB. Sequential access is cheap; going back re-decodes a
        video from its start (use :meth:`iter` for a pass over the clip)."""
        if not 0 <= i < self.n_frames:
            raise IndexError(f"frame {i} out of range 0..{self.n_frames - 1} of {self.path}")
        if self._cursor is not None:
            return self._cursor.get(i)
        return _read_image(self.files[i], self.size)

    def iter(self) -> Iterator[np.ndarray]:
        """All frames in order, each ``(H, W, 3)`` uint8 RGB, decoded once."""
        if self._cursor is None:
            for f in self.files:
                yield _read_image(f, self.size)
            return
        import imageio_ffmpeg

        w, h = self.size
        gen = imageio_ffmpeg.read_frames(str(self.path))
        try:
            next(gen)
            for i in range(self.n_frames):
                try:
                    buf = next(gen)
                except StopIteration:
                    raise InputFileError(self.path, f"video ended after {i} of {self.n_frames} frames") from None
                yield _video_frame(self.path, buf, w, h, i)
        finally:
            gen.close()


def _read_image(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            img = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise InputFileError(path, f"not a readable image: {exc}") from None
    if size is not None and (img.shape[1], img.shape[0]) != tuple(size):
        raise InputFileError(path, f"image is {img.shape[1]}x{img.shape[0]}; the clip's frames are "
                                   f"{size[0]}x{size[1]}")
    return img


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except (OSError, UnidentifiedImageError) as exc:
        raise InputFileError(path, f"not a readable image: {exc}") from None


def _open_folder(folder: Path, fps: float) -> Frames:
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=lambda p: natural_key(p.name))
    if not files:
        raise InputFileError(folder, f"folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    size = _image_size(files[0])
    for f in files[1:]:
        other = _image_size(f)
        if other != size:
            raise InputFileError(f, f"image is {other[0]}x{other[1]}, but {files[0].name} is {size[0]}x{size[1]}; "
                                    "all frames of a folder must have one size")
    return Frames(folder, len(files), float(fps), size, tuple(f.name for f in files), tuple(files))


def _open_video(path: Path) -> Frames:
    import imageio_ffmpeg

    try:
        gen = imageio_ffmpeg.read_frames(str(path))
        meta = next(gen)
        gen.close()
        n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (OSError, RuntimeError, StopIteration, ValueError) as exc:
        msg = str(exc).strip().splitlines()
        raise InputFileError(path, f"not a readable video: {msg[-1] if msg else type(exc).__name__}") from None
    size = tuple(int(v) for v in meta.get("size") or (0, 0))
    fps = float(meta.get("fps") or 0.0)
    if n_frames <= 0 or min(size) <= 0:
        raise InputFileError(path, f"video holds no frames (size {size}, {n_frames} frames)")
    if fps <= 0:
        raise InputFileError(path, "video does not state its frame rate")
    names = tuple(f"{i:06d}" for i in range(n_frames))
    return Frames(path, int(n_frames), fps, (size[0], size[1]), names, (), _VideoCursor(path, size))


def open_frames(video_or_dir: str | Path, fps: float | None = None) -> Frames:
    """Open a video file or a folder of images.

    Args:
        video_or_dir: a video (``.mp4``, ``.avi``, ``.mov``, ``.mkv``, ``.webm``) or a folder of ``.png`` /
            ``.jpg`` images.
        fps: frame rate of an image folder (default :data:`DEFAULT_FPS`); for a video it is read from the file
            and this argument must be ``None`` or agree with it.

    Raises:
        InputFileError: the path is missing, an unreadable or empty video, a folder without images, or images of
            different sizes; the message names the file.
    """
    path = Path(video_or_dir)
    if path.is_dir():
        if fps is not None and not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        return _open_folder(path, DEFAULT_FPS if fps is None else fps)
    if not path.exists():
        raise InputFileError(path, "no such video file or image folder")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputFileError(path, f"not a video ({', '.join(VIDEO_SUFFIXES)}) or a folder of images")
    frames = _open_video(path)
    if fps is not None and abs(fps - frames.fps) > 1e-3 * frames.fps:
        raise InputFileError(path, f"video runs at {frames.fps:g} frames/s, but fps={fps:g} was given")
    return frames


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float, crf: int = 17) -> int:
    """Write ``(H, W, 3)`` uint8 RGB frames as an H.264 ``.mp4`` (atomically); return the number written.

    Even sizes are stored as ``yuv420p`` (plays everywhere); an odd width or height as ``yuv444p``. ``crf`` is
    x264's constant rate factor (0 lossless, 17 visually lossless, 23 x264's default).

    Raises:
        ValueError: no frames, frames of different sizes or not uint8 RGB.
    """
    import imageio_ffmpeg

    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"write_video writes .mp4 files, got {path}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ValueError(f"{path}: no frames to write")
    size = (first.shape[1], first.shape[0])
    pix_fmt = "yuv420p" if size[0] % 2 == 0 and size[1] % 2 == 0 else "yuv444p"
    count = 0
    with atomic_path(path, suffix=".mp4") as tmp:
        writer = imageio_ffmpeg.write_frames(str(tmp), size, fps=float(fps), codec="libx264", quality=None,
                                             pix_fmt_out=pix_fmt, macro_block_size=1, ffmpeg_log_level="error",
                                             output_params=["-crf", str(int(crf))])
        writer.send(None)
        try:
            for img in _chain(first, it):
                img = np.asarray(img)
                if img.dtype != np.uint8 or img.shape != (size[1], size[0], 3):
                    raise ValueError(f"{path}: frame {count} is {img.dtype} {img.shape}; expected uint8 "
                                     f"({size[1]}, {size[0]}, 3)")
                writer.send(np.ascontiguousarray(img))
                count += 1
        finally:
            writer.close()
    return count


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
