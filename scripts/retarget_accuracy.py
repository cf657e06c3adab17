"""Measure the retargeting round trip: OpenSim motion -> Anny -> virtual markers -> label (Scale + IK) -> angles.

Usage::

    python scripts/retarget_accuracy.py --out /tmp/retarget_accuracy [--json results.json]

For each Anny shape (the default body, an adult man and an adult woman) and each motion (``normal.mot`` gait and
crouch gait from ``tests/data/motions``, mapped from gait2392 names; a generated arm raise), the script writes the
virtual-marker trials, runs ``python -m biopose_opensim.label`` on them with the ``anny_d3ke`` set and
``--static-pose`` (static trial at q = 0), and prints the mean and max |IK - source| per coordinate (degrees).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "motion"))  # the arm raise of the round-trip test

COORDINATES = ("hip_flexion", "hip_adduction", "hip_rotation", "knee_angle", "ankle_angle", "arm_flex", "arm_add",
               "elbow_flex", "pro_sup")
TRUNK = ("pelvis_tilt", "pelvis_list", "pelvis_rotation", "lumbar_extension", "lumbar_bending", "lumbar_rotation")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="working folder (trials and label outputs)")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)

    from biopose_opensim.bodymodels import AnnyBodyModel, AnnyShape
    from biopose_opensim.io import read_coordinates
    from biopose_opensim.label import main as label_main
    from biopose_opensim.markers.sets import load_marker_set
    from biopose_opensim.motion import read_motion, write_synthetic_trials
    from biopose_opensim.osim import CoordinateSpace
    from biopose_opensim.paths import MARKER_SETS_DIR, default_model_path
    from test_retarget_label import arm_raise_motion

    model = default_model_path()
    coords = CoordinateSpace.from_osim(model)
    rotational = dict(zip(coords.names, coords.rotational))
    bm = AnnyBodyModel()
    ms = load_marker_set("anny_d3ke")
    prefix = MARKER_SETS_DIR / "anny_d3ke_rajagopal2023"
    data = ROOT / "tests" / "data" / "motions"
    args.out.mkdir(parents=True, exist_ok=True)
    motions = [read_motion(data / "normal.mot", model, "gait2392"), read_motion(data / "crouch2.mot", model, "gait2392"),
               arm_raise_motion(args.out / "arm_raise.mot")]
    shapes = {"default": AnnyShape(),  # 1.63 m
              "adult_male": AnnyShape(gender=0.0, age=0.667, muscle=0.6, weight=0.6, height=0.4),  # 1.82 m
              "adult_female": AnnyShape(gender=1.0, age=0.8, muscle=0.4, weight=0.7, height=0.3)}
    results = {}
    for shape_name, shape in shapes.items():
        work = args.out / shape_name
        t0 = time.time()
        files = write_synthetic_trials(work / "trials", bm, model, motions, ms, shape=shape)
        rc = label_main(["--model", str(model), "--static", str(files.static_trc), "--trials",
                         *map(str, files.trials), "--markers", f"{prefix}_markers.xml",
                         "--scale-setup", f"{prefix}_Setup_Scale.xml", "--ik-setup", f"{prefix}_Setup_IK.xml",
                         "--static-pose", str(files.static_pose_mot), "--out", str(work / "label"), "--overwrite"])
        if rc != 0:
            raise SystemExit(f"label failed for {shape_name} (exit {rc})")
        for motion in motions:
            _, q, names = read_coordinates(work / "label" / f"{motion.name}_ik.mot", rotational)
            row = {}
            for c in [f"{c}_{s}" for c in COORDINATES for s in ("r", "l")] + list(TRUNK):
                d = np.degrees(np.abs(q[:, names.index(c)] - motion.column(c)))
                row[c] = {"mean": round(float(d.mean()), 2), "max": round(float(d.max()), 2)}
            results[f"{shape_name}/{motion.name}"] = row
        print(f"{shape_name}: {time.time() - t0:.0f} s")
    header = f"{'coordinate':18s}" + "".join(f"{k:>28s}" for k in results)
    print(header)
    for c in next(iter(results.values())):
        print(f"{c:18s}" + "".join(f"{r[c]['mean']:>14.2f} ({r[c]['max']:5.2f} max)" for r in results.values()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
