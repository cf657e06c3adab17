"""Worker run by the nimblephysics environment's python (numpy < 2); never imported by the package.

Usage:
    python _nimble_worker.py info  --model M.osim --output info.json
    python _nimble_worker.py fk    --model M.osim --input q.npz --output markers.npz
    python _nimble_worker.py bench --model M.osim --input q.npz --output timing.json [--repeats 3]

``q.npz`` holds ``q`` (N, n_dofs) in nimble's DOF order (as listed by ``info``). ``fk`` writes
``markers`` (N, M, 3) metres in nimble's world frame and ``marker_names`` (M,). ``bench`` times nimble's
per-frame FK loop (``setPositions`` + ``getMarkerWorldPositions`` for all markers) and writes the best
seconds per frame. Only numpy and nimblephysics are imported here.
"""
import argparse
import json
import time

import numpy as np


def _load(path):
    import os

    import nimblephysics as nimble

    path = os.path.abspath(path)  # nimble reads relative paths as URIs and fails on them
    osim = nimble.biomechanics.OpenSimParser.parseOsim(path, ignoreGeometry=True)
    skel = osim.skeleton
    if skel is None:
        raise SystemExit(f"{path}: nimblephysics could not parse this model")
    names = sorted(osim.markersMap.keys())
    markers = [osim.markersMap[n] for n in names]
    return skel, names, markers


def _info(args):
    skel, names, _ = _load(args.model)
    info = {
        "dofs": [skel.getDofByIndex(i).getName() for i in range(skel.getNumDofs())],
        "markers": names,
        "bodies": [skel.getBodyNode(i).getName() for i in range(skel.getNumBodyNodes())],
    }
    with open(args.output, "w") as fh:
        json.dump(info, fh)


def _fk(args):
    skel, names, markers = _load(args.model)
    q = np.load(args.input)["q"]
    out = np.empty((q.shape[0], len(markers), 3))
    for t in range(q.shape[0]):
        skel.setPositions(np.ascontiguousarray(q[t], dtype=np.float64))
        out[t] = np.asarray(skel.getMarkerWorldPositions(markers)).reshape(-1, 3)
    np.savez(args.output, markers=out, marker_names=np.array(names))


def _bench(args):
    skel, _, markers = _load(args.model)
    q = np.ascontiguousarray(np.load(args.input)["q"], dtype=np.float64)
    rows = [np.ascontiguousarray(r) for r in q]
    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for r in rows:
            skel.setPositions(r)
            skel.getMarkerWorldPositions(markers)
        best = min(best, (time.perf_counter() - t0) / len(rows))
    with open(args.output, "w") as fh:
        json.dump({"seconds_per_frame": best, "frames": len(rows), "repeats": args.repeats}, fh)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("info", "fk", "bench"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--input")
    parser.add_argument("--output", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    {"info": _info, "fk": _fk, "bench": _bench}[args.mode](args)


if __name__ == "__main__":
    main()
