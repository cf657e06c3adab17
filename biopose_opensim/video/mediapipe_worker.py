"""MediaPipe BlazePose on a stream of RGB frames; runs INSIDE the MediaPipe environment (``.venvs/mediapipe``).

Not imported by the package: :func:`biopose_opensim.video.detector.detect_mediapipe` runs this file with the
environment's python (standard library, numpy < 2 and ``mediapipe==0.10.21`` only). Usage::

    python mediapipe_worker.py detect --width W --height H --frames T --output landmarks.npz < frames.rgb
    python mediapipe_worker.py check

``detect`` reads ``T`` frames of raw ``(H, W, 3)`` uint8 RGB (row-major, ``H * W * 3`` bytes each) from stdin and
tracks one person with ``mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)``. Complexity 1 uses
``pose_landmark_full.tflite``, which ships inside the mediapipe wheel; complexities 0 and 2 would download a model
at run time and are never used. It writes ``output`` (``.npz``):

* ``image`` ``(T, 33, 3)`` float64: landmark x, y in pixels of the frame (x right, y down, origin at the top-left
  corner of the top-left pixel; MediaPipe's normalised coordinates times W, H) and visibility in [0, 1];
* ``world`` ``(T, 33, 3)`` float64: world landmarks, metres, origin midway between the hips (MediaPipe's
  ``pose_world_landmarks``);
* ``detected`` ``(T,)`` bool: a person was found (rows of frames without one are all zero);
* ``mediapipe_version`` str.

``check`` runs the detector on a tiny synthetic image and prints one line of JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

N_LANDMARKS = 33
MODEL_COMPLEXITY = 1  # the only complexity whose model ships in the wheel


def _read_exact(stream, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _pose():
    import mediapipe as mp

    return mp, mp.solutions.pose.Pose(static_image_mode=False, model_complexity=MODEL_COMPLEXITY,
                                       smooth_landmarks=True, enable_segmentation=False,
                                       min_detection_confidence=0.5, min_tracking_confidence=0.5)


def detect(width: int, height: int, n_frames: int, output: str, stream) -> int:
    """Run the pose tracker over ``n_frames`` frames read from ``stream``; write ``output``. Returns 0."""
    mp, pose = _pose()
    image = np.zeros((n_frames, N_LANDMARKS, 3))
    world = np.zeros((n_frames, N_LANDMARKS, 3))
    detected = np.zeros(n_frames, dtype=bool)
    size = width * height * 3
    with pose:
        for t in range(n_frames):
            buf = _read_exact(stream, size)
            if len(buf) != size:
                sys.stderr.write(f"frame {t}: expected {size} bytes on stdin, got {len(buf)}\n")
                return 3
            frame = np.frombuffer(buf, dtype=np.uint8).reshape(height, width, 3)
            res = pose.process(frame)
            if res.pose_landmarks is not None:
                detected[t] = True
                lm = res.pose_landmarks.landmark
                image[t] = [(p.x * width, p.y * height, min(max(p.visibility, 0.0), 1.0)) for p in lm]
                if res.pose_world_landmarks is not None:
                    world[t] = [(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark]
            if (t + 1) % 50 == 0 or t + 1 == n_frames:
                sys.stderr.write(f"progress {t + 1}/{n_frames}\n")
                sys.stderr.flush()
    tmp = output + ".part.npz"
    np.savez(tmp, image=image, world=world, detected=detected, mediapipe_version=np.array(mp.__version__))
    os.replace(tmp, output)
    return 0


def check() -> int:
    """Run the tracker on a small synthetic image (a stick figure); print versions and whether it found one."""
    mp, pose = _pose()
    img = np.full((128, 128, 3), 200, dtype=np.uint8)
    img[20:40, 54:74] = 60  # head
    img[40:85, 50:78] = 60  # torso
    img[85:120, 52:62] = 60  # legs
    img[85:120, 66:76] = 60
    with pose:
        res = pose.process(img)
    print(json.dumps({"mediapipe": mp.__version__, "numpy": np.__version__,
                      "model_complexity": MODEL_COMPLEXITY, "detected": res.pose_landmarks is not None}))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="MediaPipe BlazePose worker (runs in .venvs/mediapipe).")
    sub = parser.add_subparsers(dest="action", required=True)
    d = sub.add_parser("detect")
    d.add_argument("--width", type=int, required=True)
    d.add_argument("--height", type=int, required=True)
    d.add_argument("--frames", type=int, required=True)
    d.add_argument("--output", required=True)
    sub.add_parser("check")
    args = parser.parse_args(argv)
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.action == "check":
        return check()
    return detect(args.width, args.height, args.frames, args.output, sys.stdin.buffer)


if __name__ == "__main__":
    sys.exit(main())
