"""Label masks from bony-landmark residuals on the default model's own landmark markers."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.markers.vocabulary import BONY_MARKERS as BONY_LANDMARKS, bony_markers
from biopose_opensim.synth.masks import coordinate_masks, plan_masks


@pytest.fixture(scope="module")
def plan(default_model):
    from biopose_opensim.osim import import_opensim

    osim = import_opensim()
    m = osim.Model(str(default_model))
    names = [m.getMarkerSet().get(i).getName() for i in range(m.getMarkerSet().getSize())]
    return plan_masks(default_model, bony_markers(names)), names


def test_bony_markers_exclude_joint_centres_and_clusters(plan):
    _, names = plan
    bony = bony_markers(names)
    assert {"RASI", "LPSI", "RLMAL", "RMEL", "RCAL", "C7"} <= set(bony)
    assert not {"RHJC", "RKJC", "RTH1", "RTB2", "RUA1"} & set(bony)
    assert "Tracking_L3" in BONY_LANDMARKS and "rthumb" not in BONY_LANDMARKS


def test_each_coordinate_is_gated_by_the_segment_it_moves(plan):
    p, _ = plan
    gates = dict(zip(p.coordinate_names, p.markers_per_coordinate))
    assert set(gates["pelvis_tilt"]) == {"RASI", "LASI", "RPSI", "LPSI"}
    assert set(gates["knee_angle_r"]) == {"RLMAL", "RMMAL"}  # tibia's bony landmarks
    assert gates["knee_angle_r_beta"] == gates["knee_angle_r"]  # coupled: same mask
    assert set(gates["ankle_angle_l"]) == {"LCAL", "LTOE", "LMT5"}  # talus has none: the calcaneus's
    assert set(gates["hip_flexion_r"]) == {"RLFC", "RMFC"}
    assert set(gates["elbow_flex_r"]) == {"RFAradius", "RFAulna"}  # ulna has none: the wrist styloids
    # locked coordinates are never masked
    assert "mtp_angle_r" in p.unmasked and "wrist_flex_l" in p.unmasked


def test_masks_follow_the_threshold(plan):
    p, names = plan
    T = 5
    err = np.full((T, len(names)), 0.005)
    err[2, names.index("RLMAL")] = 0.025  # 25 mm on the right lateral malleolus in frame 2
    err[3, names.index("LASI")] = np.nan  # missing marker never masks
    mask = coordinate_masks(p, err, names, threshold=0.02)
    c = list(p.coordinate_names)
    assert not mask[2, c.index("knee_angle_r")] and not mask[2, c.index("knee_angle_r_beta")]
    assert mask[2, c.index("knee_angle_l")] and mask[2, c.index("hip_flexion_r")]
    assert mask[[0, 1, 3, 4]].all()
    assert coordinate_masks(p, err, names, threshold=0.03).all()
