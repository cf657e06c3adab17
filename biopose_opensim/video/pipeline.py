"""Video -> OpenSim: frames -> 2D keypoints -> front end -> mesh -> virtual markers -> NeurIK -> OpenSim files.

``predict_video`` writes into ``out`` (everything is staged and moved in at the end: a failure leaves nothing):

* ``<clip>_keypoints.npz``: the 2D keypoints used (:class:`~.tracks.KeypointTrack`), when any;
* ``<clip>_body.npz``: the front end's Anny sequence (camera frame) and the camera intrinsics;
* ``<clip>_virtual_markers.trc`` (mm, y up) — one per run of frames with a person (``<clip>_part<k>``) when the
  clip has gaps: frames without a person are reported, never invented;
* what ``predict --trc`` writes for those trials: ``<trial>_neurik.mot``, the scaled ``.osim``, OpenSim's marker
  errors, angle plots, ``predict.json``, ``report.md``;
* ``<clip>_overlay.mp4`` and PNG stills of the mesh and keypoints on the frames;
* ``video.json`` (settings, gaps, per-stage seconds) and ``video_report.md``.

Camera: intrinsics with the principal point at the frame centre and ``focal_px`` (default: the frame's larger
side, about a 53 degree field of view across it — phone main cameras are near this); the camera is taken as level
(see :mod:`.markers`). World scale: with ``height_m`` the fitted body's standing height is that height (``fit``);
otherwise the body model's shape sets it, which monocular video cannot observe reliably.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text, check_output_dir
from ..errors import ConfigError, InputFileError, OutputExistsError
from ..io import MarkerData, write_trc
from ..labeling.outputs import move_into_place, staging_dir
from .frames import Frames, open_frames
from .frontends import FRONTENDS, run_fit, run_mqhmr
from .tracks import KeypointTrack

log = logging.getLogger(__name__)

#: Shortest run of frames with a person that becomes a trial.
MIN_SEGMENT_FRAMES = 8


@dataclass(frozen=True)
class VideoResult:
    """What :func:`predict_video` wrote: the trials' TRC files, the NeurIK prediction, overlay and report."""

    out: Path
    trcs: tuple[Path, ...]
    prediction: object
    overlay: Path
    report: Path
    summary: Path
    seconds: dict


def intrinsics(size: tuple[int, int], focal_px: float | None = None) -> np.ndarray:
    """``(3, 3)`` intrinsics: principal point at the frame centre, focal ``focal_px`` (default: larger side)."""
    W, H = size
    f = float(focal_px) if focal_px is not None else float(max(W, H))
    if f <= 0:
        raise ConfigError(f"--focal-px must be positive, got {focal_px}")
    return np.array([[f, 0.0, W / 2.0], [0.0, f, H / 2.0], [0.0, 0.0, 1.0]])


def segments(observed: np.ndarray, min_frames: int = MIN_SEGMENT_FRAMES) -> list[tuple[int, int]]:
    """Half-open runs ``(start, stop)`` of observed frames at least ``min_frames`` long."""
    runs, t = [], 0
    while t < len(observed):
        if observed[t]:
            end = t
            while end < len(observed) and observed[end]:
                end += 1
            if end - t >= min_frames:
                runs.append((t, end))
            t = end
        else:
            t += 1
    return runs


def _keypoints(frames: Frames, keypoints: str | Path | None, detector: str | None, work: Path,
               progress: bool) -> KeypointTrack | None:
    if keypoints is not None and detector is not None:
        raise ConfigError("give either --keypoints or --detector, not both")
    if keypoints is not None:
        from .keypoint_files import read_keypoints

        return read_keypoints(keypoints, frames=frames)
    if detector is not None:
        if detector != "mediapipe":
            raise ConfigError(f"unknown --detector {detector!r}; available: mediapipe")
        from .detector import detect_mediapipe

        return detect_mediapipe(frames, work, progress=progress)
    return None


def predict_video(source: str | Path, out: str | Path, keypoints: str | Path | None = None,
                  detector: str | None = None, frontend: str = "fit", height_m: float | None = None,
                  focal_px: float | None = None, fps: float | None = None, mqhmr_checkpoint: str | Path | None = None,
                  refine_iterations: int | None = None, checkpoint: str | Path | None = None, device: str = "cpu",
                  cutoff_hz: float = 6.0, progress: bool = True, overwrite: bool = False) -> VideoResult:
    """Run the whole video -> OpenSim chain on ``source`` (a video file or a folder of images).

    Raises:
        BioposeError: unreadable video, keypoints that do not match the frames, no person in any frame, a front
            end without what it needs — with nothing written.
    """
    from ..markers.sets import load_marker_set
    from ..prediction import predict_trials
    from .markers import body_mesh, lowpass, virtual_markers
    from .overlay import write_overlay

    if frontend not in FRONTENDS:
        raise ConfigError(f"--frontend must be one of {', '.join(FRONTENDS)}, got {frontend!r}")
    if fps is not None and not fps > 0:
        raise ConfigError(f"--fps must be positive, got {fps}")
    if height_m is not None and not 0.5 < height_m < 2.6:
        raise ConfigError(f"--height is the subject's height in metres (0.5 to 2.6), got {height_m}")
    out = Path(out)
    check_output_dir(out)
    if (out / "video.json").exists() and not overwrite:
        raise OutputExistsError(f"--out {out} already holds a video prediction (video.json); pass --overwrite to "
                                "replace it")
    t_all = time.perf_counter()
    seconds: dict[str, float] = {}
    frames = open_frames(source, fps)
    clip = Path(source).stem if Path(source).is_file() else Path(source).name
    K = intrinsics(frames.size, focal_px)
    log.info("%s: %d frames, %dx%d px at %.3g fps; focal %.0f px", source, frames.n_frames, *frames.size,
             frames.fps, K[0, 0])
    with staging_dir(out) as stage:
        t0 = time.perf_counter()
        track = _keypoints(frames, keypoints, detector, stage / "detector", progress)
        seconds["keypoints"] = time.perf_counter() - t0
        if track is not None:
            track.save(stage / f"{clip}_keypoints.npz")
            if not np.asarray(track.detected).any():
                raise InputFileError(Path(keypoints or source), "no person was detected in any frame")
        if frontend == "fit":
            if track is None:
                raise ConfigError("--frontend fit needs 2D keypoints: give --keypoints FILE or --detector "
                                  "mediapipe")
            seq = run_fit(track, K, height_m=height_m, progress=progress)
        else:
            from ..hmr import default_checkpoint

            if height_m is not None:
                log.warning("--height is used by the fit front end only; MQ-HMR's body shape sets the scale")
            ckpt = mqhmr_checkpoint or default_checkpoint()
            if refine_iterations is None:
                from ..hmr.checkpoint import read_checkpoint

                refine_iterations = read_checkpoint(ckpt).config.refine.iterations
            if track is None:
                refine_iterations = 0
            seq = run_mqhmr(frames, track, K, ckpt, refine_iterations, device=device, progress=progress)
        seconds.update({f"frontend_{k}": v for k, v in seq.stages.items()})
        gaps = [] if track is None else [list(g) for g in track.gaps()]
        t0 = time.perf_counter()
        mesh = body_mesh(seq)
        marker_set = load_marker_set("anny_d3ke")
        markers = virtual_markers(mesh, marker_set, mesh_joint_names())
        observed = ~np.asarray(seq.filled, bool)
        markers = lowpass(markers, frames.fps, cutoff_hz, keep=observed)
        seconds["mesh_and_markers"] = time.perf_counter() - t0
        runs = segments(observed)
        if not runs:
            raise InputFileError(Path(source), f"no run of {MIN_SEGMENT_FRAMES} or more frames with a person "
                                               f"(gaps: {gaps})")
        times = np.arange(frames.n_frames) / frames.fps
        trcs = []
        for k, (a, b) in enumerate(runs):
            name = f"{clip}_virtual_markers" if len(runs) == 1 else f"{clip}_part{k + 1}_virtual_markers"
            data = MarkerData(marker_set.names, markers[a:b], times[a:b], float(frames.fps), np.arange(a + 1, b + 1))
            trcs.append(write_trc(stage / f"{name}.trc", data))
        np.savez(stage / f"{clip}_body.npz", orientations=seq.orientations.astype(np.float32),
                 phenotypes=seq.phenotypes, cam_t=seq.cam_t, filled=seq.filled, reprojection_px=seq.reprojection_px,
                 K=K, image_size=np.asarray(frames.size))
        t0 = time.perf_counter()
        prediction = predict_trials(trcs, stage, checkpoint=checkpoint, device=device, subject=clip,
                                    progress=progress, overwrite=True)
        seconds["neurik_and_opensim"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        stills = sorted({0, frames.n_frames // 2, frames.n_frames - 1})
        overlay, pngs = write_overlay(stage / f"{clip}_overlay.mp4", frames, mesh, K, track, seq.filled, stills)
        seconds["overlay"] = time.perf_counter() - t0
        seconds["total"] = time.perf_counter() - t_all
        summary = {
            "source": str(source), "frames": frames.n_frames, "fps": frames.fps, "size": list(frames.size),
            "focal_px": float(K[0, 0]), "frontend": frontend,
            "keypoints": str(keypoints) if keypoints else (detector or None),
            "keypoint_layout": track.layout if track is not None else None,
            "height_m": height_m if frontend == "fit" else None, "gaps": gaps, "trials": [[a, b] for a, b in runs],
            "refine_iterations": refine_iterations if frontend == "mqhmr" else None,
            "reprojection_px_median": float(np.nanmedian(seq.reprojection_px))
            if np.isfinite(seq.reprojection_px).any() else None,
            "phenotypes": seq.phenotypes.tolist(), "cutoff_hz": cutoff_hz, "seconds": seconds,
            "seconds_per_frame": {k: v / frames.n_frames for k, v in seconds.items()},
        }
        atomic_write_text(stage / "video.json", json.dumps(summary, indent=1))
        report = _write_report(stage / "video_report.md", clip, summary, prediction, [p.name for p in pngs])
        for f in sorted(stage.iterdir()):
            if f.is_file():
                move_into_place(f, out / f.name)
    log.info("%s: %d trial(s) -> %s in %.1f s", clip, len(trcs), out, seconds["total"])
    return VideoResult(out=out, trcs=tuple(out / t.name for t in trcs), prediction=prediction,
                       overlay=out / overlay.name, report=out / report.name, summary=out / "video.json",
                       seconds=seconds)


def mesh_joint_names() -> tuple[str, ...]:
    from ..bodymodels.base import SMPLH_JOINT_NAMES

    return SMPLH_JOINT_NAMES


def _write_report(path: Path, clip: str, s: dict, prediction, stills: list[str]) -> Path:
    lines = [f"# {clip}: video to OpenSim", "",
             f"- source: `{s['source']}`: {s['frames']} frames, {s['size'][0]}x{s['size'][1]} px, {s['fps']:.3g} fps",
             f"- 2D keypoints: {s['keypoints'] or 'none'} ({s['keypoint_layout'] or '-'})",
             f"- front end: `{s['frontend']}`" + (f", refinement {s['refine_iterations']} iterations"
                                                  if s["frontend"] == "mqhmr" and s["refine_iterations"] is not None
                                                  else ""),
             f"- camera: level, focal {s['focal_px']:.0f} px, principal point at the frame centre (assumed)",
             "- world scale: " + (f"the subject's height {s['height_m']:.3f} m (--height)" if s["height_m"]
                                  else "the body model's estimated shape (no --height given): absolute size and "
                                       "distance are uncertain from one camera"),
             f"- frames without a person: {s['gaps'] or 'none'}; trials: {s['trials']}",
             "- median 2D reprojection of the body's joints: "
             + (f"{s['reprojection_px_median']:.1f} px" if s["reprojection_px_median"] is not None else "n/a"),
             "", "## Seconds per stage", "", "| stage | s | s/frame |", "|---|---|---|"]
    for k, v in s["seconds"].items():
        lines.append(f"| {k} | {v:.2f} | {s['seconds_per_frame'][k]:.3f} |")
    lines += ["", "## OpenSim", "", "NeurIK's coordinates, the scaled model and OpenSim's marker errors: see "
              "[report.md](report.md) (joint-angle plots per trial).", ""]
    for t in prediction.trials:
        lines.append(f"- `{t.mot.name}`, `{t.plot.name}`")
    lines += ["", "## Overlay", "", f"`{clip}_overlay.mp4`; stills:", ""]
    lines += [f"![{n}]({n})" for n in stills]
    lines += ["", "Accuracy on real video is bounded by the 2D keypoints, the assumed camera and what one view "
              "cannot see (depth of the limbs); see docs/video.md.", ""]
    atomic_write_text(path, "\n".join(lines))
    return path
