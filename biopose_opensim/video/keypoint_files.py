"""Read 2D keypoints written by other detectors into a :class:`~biopose_opensim.video.tracks.KeypointTrack`.

* OpenPose JSON (:func:`read_openpose`): a folder with one ``*_keypoints.json`` per frame (natural name order),
  ``people[*].pose_keypoints_2d`` = ``K x (x, y, c)`` pixels; BODY_25 (75 values, layout ``openpose_body25``) or
  COCO-18 (54 values, layout ``coco18``), told apart by the length. OpenPose writes no image size: it comes from
  the frames or the ``image_size`` argument.
* COCO keypoint JSON (:func:`read_coco`): ``images`` (``id``, ``file_name``, ``width``, ``height``) and
  ``annotations`` (``image_id``, ``keypoints`` = 17 x (x, y, v), layout ``coco17``); one file for a whole clip (one
  image per frame) or for a single image, or a folder of such files. Visibility ``v`` 0 (not labelled) ->
  confidence 0; 1 (labelled, occluded) and 2 (visible) -> confidence 1.

Several people in a frame: the one with the highest mean keypoint confidence is kept; when others come within
:data:`AMBIGUITY_MARGIN` of it, the one whose centroid (mean of its confident keypoints) lies nearest the person
kept in the previous frame is taken instead. A frame with nobody: ``detected`` False, confidence 0.

Coordinates are taken as written (pixels, x right, y down; OpenPose and COCO both put the origin at the top-left
corner of the image).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import keypoints as kp
from ..errors import ConfigError, InputFileError
from .frames import Frames, natural_key
from .tracks import KeypointTrack

#: People whose mean confidence is within this of the best are "ambiguous": the previous frame's person decides.
AMBIGUITY_MARGIN = 0.1
#: OpenPose keypoint count -> layout.
OPENPOSE_LAYOUTS = {25: "openpose_body25", 18: "coco18"}


def _load_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None


def _pick(people: list[np.ndarray], previous: np.ndarray | None) -> int:
    """Index of the person to keep among ``people`` (each ``(K, 3)`` x, y, confidence); see the module docs."""
    means = np.array([p[:, 2].mean() for p in people])
    best = int(np.argmax(means))
    close = np.flatnonzero(means >= means[best] - AMBIGUITY_MARGIN)
    if previous is None or len(close) < 2:
        return best
    dist = [np.linalg.norm(_centroid(people[i]) - previous) for i in close]
    return int(close[int(np.argmin(dist))])


def _centroid(person: np.ndarray) -> np.ndarray:
    w = person[:, 2] > 0
    return person[w, :2].mean(axis=0) if w.any() else np.full(2, np.nan)


def _assemble(per_frame: list[list[np.ndarray]], layout: str, image_size, source: str) -> KeypointTrack:
    """Choose one person per frame and build the track; ``per_frame[t]`` lists ``(K, 3)`` candidates."""
    k = len(kp.layout(layout))
    t = len(per_frame)
    xy = np.zeros((t, k, 2))
    conf = np.zeros((t, k))
    det = np.zeros(t, dtype=bool)
    previous = None
    for i, cands in enumerate(per_frame):
        if not cands:
            continue
        p = cands[_pick(cands, previous)]
        xy[i], conf[i], det[i] = p[:, :2], p[:, 2], True
        c = _centroid(p)
        previous = c if np.all(np.isfinite(c)) else previous
    xy[conf <= 0] = 0.0
    return KeypointTrack(layout=layout, xy=xy, confidence=conf, detected=det, image_size=image_size, source=source)


def _check_count(path: Path, n_files: int, n_frames: int | None, what: str) -> None:
    if n_frames is not None and n_files != n_frames:
        raise InputFileError(path, f"{n_files} {what} but the clip has {n_frames} frames")


def read_openpose(folder: str | Path, n_frames: int | None = None,
                  image_size: tuple[int, int] | None = None) -> KeypointTrack:
    """Read an OpenPose JSON folder (one ``*_keypoints.json`` per frame) as a track.

    Args:
        folder: the folder.
        n_frames: the clip's frame count; a different number of files raises.
        image_size: ``(W, H)`` of the frames (OpenPose does not store it).

    Raises:
        InputFileError: no files, malformed JSON (file and line), a keypoint array of an unknown length or one
            that differs from the other frames', a file count that is not ``n_frames``.
        ConfigError: ``image_size`` missing.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*_keypoints.json"), key=lambda p: natural_key(p.name))
    if not files:
        raise InputFileError(folder, "no OpenPose files (*_keypoints.json) in this folder")
    _check_count(folder, len(files), n_frames, "OpenPose files (*_keypoints.json)")
    if image_size is None:
        raise ConfigError(f"{folder}: OpenPose JSON does not store the image size; give the frames or image_size")
    per_frame: list[list[np.ndarray]] = []
    k_seen: int | None = None
    for f in files:
        data = _load_json(f)
        people = data.get("people") if isinstance(data, dict) else None
        if not isinstance(people, list):
            raise InputFileError(f, "no 'people' list: not an OpenPose keypoint file")
        cands = []
        for j, person in enumerate(people):
            vals = np.asarray(person.get("pose_keypoints_2d", []) if isinstance(person, dict) else [], float)
            if vals.size == 0:
                continue
            if vals.size % 3 or vals.size // 3 not in OPENPOSE_LAYOUTS:
                raise InputFileError(f, f"people[{j}].pose_keypoints_2d has {vals.size} values; expected 75 "
                                        "(BODY_25) or 54 (COCO-18)")
            if k_seen is not None and vals.size // 3 != k_seen:
                raise InputFileError(f, f"people[{j}] has {vals.size // 3} keypoints; earlier frames have {k_seen}")
            k_seen = vals.size // 3
            p = vals.reshape(-1, 3)
            p[:, 2] = np.clip(p[:, 2], 0.0, 1.0)
            cands.append(p)
        per_frame.append(cands)
    if k_seen is None:
        raise InputFileError(folder, f"none of the {len(files)} OpenPose files holds a person")
    return _assemble(per_frame, OPENPOSE_LAYOUTS[k_seen], image_size, f"openpose {folder}")


def _coco_people(path: Path, anns: list, image_ids: set) -> dict:
    """``image_id`` -> list of ``(17, 3)`` (x, y, confidence) candidates."""
    out: dict = {}
    for j, ann in enumerate(anns):
        if not isinstance(ann, dict) or "image_id" not in ann or "keypoints" not in ann:
            raise InputFileError(path, f"annotations[{j}] lacks 'image_id' or 'keypoints'")
        vals = np.asarray(ann["keypoints"], dtype=float)
        if vals.size != 51:
            raise InputFileError(path, f"annotations[{j}].keypoints has {vals.size} values; COCO has 17 x 3 = 51")
        if ann["image_id"] not in image_ids:
            raise InputFileError(path, f"annotations[{j}] refers to image_id {ann['image_id']}, not in 'images'")
        p = vals.reshape(17, 3)
        p[:, 2] = (p[:, 2] > 0).astype(float)
        if p[:, 2].any():
            out.setdefault(ann["image_id"], []).append(p)
    return out


def _coco_file(path: Path) -> tuple[list[dict], dict]:
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
            or not isinstance(data.get("annotations"), list):
        raise InputFileError(path, "not a COCO keypoint file: 'images' and 'annotations' lists expected")
    for j, img in enumerate(data["images"]):
        if not isinstance(img, dict) or "id" not in img:
            raise InputFileError(path, f"images[{j}] has no 'id'")
    ids = {img["id"] for img in data["images"]}
    return data["images"], _coco_people(path, data["annotations"], ids)


def read_coco(path: str | Path, n_frames: int | None = None, image_names: Sequence[str] | None = None,
              image_size: tuple[int, int] | None = None) -> KeypointTrack:
    """Read COCO keypoint JSON (a file for a clip or one image, or a folder of such files) as a track.

    Frames: with ``image_names`` (e.g. :attr:`Frames.names`), frame ``t`` is the COCO image whose ``file_name``
    (or its stem) is ``image_names[t]``; without, the COCO images in natural ``file_name`` order (then by id),
    files of a folder in natural name order. Frames without an annotation: ``detected`` False.

    Raises:
        InputFileError: malformed JSON (file and line), missing fields, images of different sizes, an image that
            matches no name, an image count that is not ``n_frames``.
    """
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob("*.json"), key=lambda p: natural_key(p.name))
    if not files:
        raise InputFileError(path, "no COCO JSON file here")
    images: list[tuple[Path, dict]] = []
    people: dict = {}
    for f in files:
        imgs, ppl = _coco_file(f)
        images += [(f, img) for img in sorted(imgs, key=lambda im: (natural_key(str(im.get("file_name", ""))),
                                                                    str(im["id"])))]
        people.update({(f, k): v for k, v in ppl.items()})
    sizes = {(int(img["width"]), int(img["height"])) for _, img in images if "width" in img and "height" in img}
    if len(sizes) > 1:
        raise InputFileError(path, f"images of different sizes {sorted(sizes)}; one clip has one size")
    if sizes:
        size = sizes.pop()
        if image_size is not None and tuple(image_size) != size:
            raise InputFileError(path, f"images are {size[0]}x{size[1]}, the frames are "
                                       f"{image_size[0]}x{image_size[1]}")
    elif image_size is not None:
        size = tuple(image_size)
    else:
        raise InputFileError(path, "COCO images state no width/height; give the frames or image_size")
    if image_names is None:
        _check_count(path, len(images), n_frames, "COCO images")
        per_frame = [people.get((f, img["id"]), []) for f, img in images]
    else:
        _check_count(path, len(images), len(image_names), "COCO images")
        slot = {}
        for t, name in enumerate(image_names):
            slot[name] = t
            slot.setdefault(Path(name).stem, t)
        per_frame = [[] for _ in image_names]
        for f, img in images:
            name = str(img.get("file_name", ""))
            t = slot.get(Path(name).name, slot.get(Path(name).stem))
            if t is None:
                raise InputFileError(f, f"image {name!r} (id {img['id']}) matches no frame "
                                        f"({image_names[0]!r} ... {image_names[-1]!r})")
            per_frame[t] = people.get((f, img["id"]), [])
    return _assemble(per_frame, "coco17", size, f"coco {path}")


def read_keypoints(path: str | Path, frames: Frames | None = None,
                   image_size: tuple[int, int] | None = None) -> KeypointTrack:
    """Read a keypoint file or folder, whichever it is: a saved track (``.npz``), an OpenPose folder
    (``*_keypoints.json``), a COCO JSON file or a folder of them.

    With ``frames``, the track must have ``frames.n_frames`` frames and, where the file states one, the frames'
    image size (the frames also supply the size OpenPose does not store); COCO images are matched to
    ``frames.names`` for an image folder.

    Raises:
        InputFileError: an unknown kind of path, or a count/size that does not match the frames (naming the file
            and both counts).
    """
    path = Path(path)
    n = frames.n_frames if frames is not None else None
    size = frames.size if frames is not None else image_size
    if path.is_file() and path.suffix.lower() == ".npz":
        track = KeypointTrack.load(path)
    elif path.is_dir() and any(path.glob("*_keypoints.json")):
        track = read_openpose(path, n_frames=n, image_size=size)
    elif (path.is_file() and path.suffix.lower() == ".json") or (path.is_dir() and any(path.glob("*.json"))):
        names = frames.names if frames is not None and frames.files else None
        track = read_coco(path, n_frames=n, image_names=names, image_size=size)
    elif not path.exists():
        raise InputFileError(path, "no such keypoint file or folder")
    else:
        raise InputFileError(path, "not a keypoint track (.npz), an OpenPose folder (*_keypoints.json) or COCO JSON")
    if frames is not None:
        if track.n_frames != frames.n_frames:
            raise InputFileError(path, f"{track.n_frames} frames of keypoints but {frames.path} has "
                                       f"{frames.n_frames} frames")
        if track.image_size != tuple(frames.size):
            raise InputFileError(path, f"keypoints are for {track.image_size[0]}x{track.image_size[1]} images but "
                                       f"{frames.path} is {frames.size[0]}x{frames.size[1]}")
    return track
