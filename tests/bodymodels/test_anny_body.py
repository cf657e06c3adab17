"""Anny as the default body model: outputs, frames, joints, phenotype validation, bone -> OpenSim body table."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from biopose_opensim.bodymodels import ANNY_SMPLH_JOINTS, ANNY_TO_OPENSIM, SMPLH_JOINT_NAMES, AnnyShape
from biopose_opensim.bodymodels.anny_opensim import anny_bone_bodies, anny_bone_body
from biopose_opensim.errors import ConfigError


def test_rest_outputs_shapes_and_units(anny_body):
    out = anny_body.rest()
    assert out.vertices.shape == (1, anny_body.n_vertices, 3) and anny_body.n_vertices == 13718
    assert out.joints.shape == (1, 52, 3) and out.joint_names == SMPLH_JOINT_NAMES
    faces = anny_body.faces
    assert faces.ndim == 2 and faces.shape[1] == 3 and faces.dtype == torch.int64
    assert int(faces.min()) >= 0 and int(faces.max()) < anny_body.n_vertices
    height = float(out.vertices[0, :, 2].max() - out.vertices[0, :, 2].min())
    assert 1.5 < height < 1.75  # default body about 1.63 m, in metres, z up


def test_opensim_frame_is_y_up_x_forward_left_negative_z(anny_body):
    out = anny_body.rest().in_opensim_frame()
    assert out.frame == "opensim"
    v = out.vertices[0]
    assert float(v[:, 1].max() - v[:, 1].min()) > 1.5  # y is up
    head, nose_side = out.joint("head")[0], v[v[:, 1] > float(out.joint("head")[0, 1])]
    assert float(nose_side[:, 0].max()) > float(head[0]) + 0.05  # the face is forward (+x) of the head joint
    assert float(out.joint("left_hip")[0, 2]) < 0 < float(out.joint("right_hip")[0, 2])  # left is -z
    assert np.allclose(ANNY_TO_OPENSIM @ ANNY_TO_OPENSIM.T, np.eye(3)) and np.isclose(np.linalg.det(ANNY_TO_OPENSIM), 1)


def test_rest_pose_reproduces_the_rest_mesh(anny_body):
    pose = anny_body.rest_pose()
    posed = anny_body.forward(None, pose)
    rest_vertices = anny_body.model.get_rest_vertices(anny_body._coefficients(anny_body.phenotypes(None)))
    assert torch.allclose(posed.vertices, rest_vertices, atol=1e-9)


def test_joints_are_the_mapped_bone_heads(anny_body):
    out = anny_body.rest()
    heads = anny_body.bone_heads()[0]
    for name in ("left_knee", "right_wrist", "neck", "left_index2", "right_thumb1"):
        bones = ANNY_SMPLH_JOINTS[name]
        expected = torch.stack([heads[anny_body.bone_index(b)] for b in bones]).mean(0)
        assert torch.allclose(out.joint(name)[0], expected, atol=1e-12)
    with pytest.raises(KeyError, match="not in this body model's joints"):
        out.joint("nose")


def test_shape_batch_and_height_phenotype(anny_body):
    short, tall = AnnyShape(height=0.0), AnnyShape(height=1.0)
    out = anny_body.rest([short, tall])
    heights = out.vertices[..., 2].amax(-1) - out.vertices[..., 2].amin(-1)
    assert out.vertices.shape[0] == 2 and float(heights[1] - heights[0]) > 0.1


@pytest.mark.parametrize("field,value", [("age", 1.2), ("gender", -0.1), ("weight", float("nan")), ("muscle", "big")])
def test_out_of_range_phenotypes_are_rejected(field, value):
    with pytest.raises(ConfigError, match=f"Anny phenotype '{field}'"):
        AnnyShape(**{field: value})


def test_unknown_phenotype_name():
    with pytest.raises(ConfigError, match="unknown Anny phenotype.*bmi"):
        AnnyShape.from_dict({"bmi": 0.3})
    assert AnnyShape.from_dict({"gender": 1}).gender == 1.0


def test_bone_to_opensim_body_table(anny_body):
    bodies = anny_bone_bodies(anny_body.bone_labels)
    assert len(bodies) == anny_body.n_bones
    assert anny_bone_body("spine04") == "pelvis" and anny_bone_body("spine03") == "torso"
    assert anny_bone_body("lowerarm01.L") == "ulna_l" and anny_bone_body("lowerarm02.R") == "radius_r"
    assert anny_bone_body("toe3-2.R") == "toes_r" and anny_bone_body("finger2-3.L") == "hand_l"
    assert anny_bone_body("upperleg02.L") == "femur_l" and anny_bone_body("foot.R") == "calcn_r"
    assert set(bodies) <= {"pelvis", "torso"} | {f"{b}_{s}" for s in "lr" for b in (
        "femur", "tibia", "calcn", "toes", "humerus", "ulna", "radius", "hand")}
    with pytest.raises(KeyError):
        anny_bone_body("tail01")
