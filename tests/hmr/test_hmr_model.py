"""MQ-HMR network: configurations, shapes and parameter counts, camera, 6D rotations, body layers, weights."""
from __future__ import annotations

import math

import pytest
import torch

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.hmr.backbone import ViTBackbone, load_backbone_weights
from biopose_opensim.hmr.body import AnnyLayer
from biopose_opensim.hmr.camera import cam_translation, project_normalised, project_pixels
from biopose_opensim.hmr.config import CONFIGS, MQHMRConfig, load_config
from biopose_opensim.hmr.heads import matrix_to_rot6d, rot6d_to_matrix
from biopose_opensim.hmr.model import MQHMR, body_outputs, count_parameters


@pytest.fixture(scope="module")
def anny_layer():
    return AnnyLayer()


def test_paper_config_builds_on_meta_with_documented_size(anny_layer):
    """The paper configuration (ViT-H/16, 96 queries, 4 deformable layers) builds without memory; its size is the
    one docs/mqhmr.md states (ViT-H/16 alone is 630.9 M parameters without class token and head)."""
    with torch.device("meta"):
        net = MQHMR(CONFIGS["paper"], anny_layer)
        out = net(torch.empty(2, 3, 256, 256))
    assert count_parameters(net.backbone) == 630_910_720
    assert count_parameters(net) == 656_805_723
    assert net.decoder.query.shape == (96, 512) and len(net.decoder.layers) == 4
    assert out.rotations.shape == (2, 104, 3, 3)
    assert out.shape.shape == (2, 6) and out.pred_cam.shape == (2, 3)


def test_tiny_forward_shapes_and_mean_start(anny_layer):
    cfg = CONFIGS["tiny"]
    torch.manual_seed(0)
    net = MQHMR(cfg, anny_layer)
    params = net(torch.randn(3, 3, 256, 256))
    out = body_outputs(params, anny_layer, cfg)
    assert out.joints.shape == (3, 52, 3) and out.keypoints_2d.shape == (3, 52, 2) and out.cam_t.shape == (3, 3)
    # zero-initialised heads: the mean body facing the camera, phenotypes 0.5, s = 0.9
    assert torch.allclose(params.rotations, anny_layer.mean_orientations.expand(3, -1, -1, -1), atol=1e-5)
    assert torch.allclose(params.shape, torch.full((3, 6), 0.5))
    assert torch.allclose(out.cam_t[:, 2], torch.full((3,), 2 * 5000 / (256 * 0.9)))
    # facing the camera: the subject's left hip on the image's right, the head above (y down) the pelvis
    names = anny_layer.joint_names
    assert (out.keypoints_2d[:, names.index("left_hip"), 0] > out.keypoints_2d[:, names.index("right_hip"), 0]).all()
    assert (out.joints[:, names.index("head"), 1] < -0.3).all()
    with pytest.raises(ValueError, match=r"\(N, 3, 256, 256\)"):
        net(torch.randn(1, 3, 256, 192))


def test_camera_projection_conventions():
    pred_cam = torch.tensor([[0.5, 0.1, -0.2]])
    t = cam_translation(pred_cam, 5000.0, 256)
    assert torch.allclose(t, torch.tensor([[0.1, -0.2, 2 * 5000 / (256 * 0.5)]]))
    p = torch.tensor([[[0.0, 0.0, 0.0], [0.3, -0.4, 0.0]]])
    uv = project_normalised(p, t, 5000.0, 256)
    expect = (5000.0 / 256) * (p[..., :2] + t[:, None, :2]) / t[:, None, 2:]
    assert torch.allclose(uv, expect)
    # the same point through an intrinsic matrix with the principal point at the crop centre
    K = torch.tensor([[[5000.0, 0, 128], [0, 5000.0, 128], [0, 0, 1]]])
    px = project_pixels(p + t[:, None], K)
    assert torch.allclose(px / 256 - 0.5, uv, atol=1e-6)


def test_rot6d_round_trip_and_orthonormal():
    torch.manual_seed(1)
    x = torch.randn(100, 6, dtype=torch.float64)
    R = rot6d_to_matrix(x)
    eye = torch.eye(3, dtype=torch.float64).expand(100, 3, 3)
    assert torch.allclose(R.transpose(-1, -2) @ R, eye, atol=1e-12)
    assert torch.allclose(torch.linalg.det(R), torch.ones(100, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(rot6d_to_matrix(matrix_to_rot6d(R)), R, atol=1e-12)


def test_anny_layer_matches_anny_body_model(anny_layer):
    """The differentiable layer gives the joints of the data-generation body model, posed the same (1e-4 m)."""
    from biopose_opensim.bodymodels.anny import AnnyBodyModel, AnnyPose, AnnyShape

    body = AnnyBodyModel()
    shape = AnnyShape(gender=0.2, age=0.7, muscle=0.6, weight=0.4, height=0.8, proportions=0.3)
    rest = body.rest_pose(shape)
    angle = 0.6
    Rz = torch.tensor([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1.0]],
                      dtype=rest.orientations.dtype)
    pose = AnnyPose(orientations=Rz @ rest.orientations, root_position=torch.zeros(1, 3, dtype=Rz.dtype))
    ref = body.forward(shape, pose).joints
    phen = torch.as_tensor(shape.as_array(), dtype=torch.float32)[None]
    got = anny_layer(pose.orientations.float(), phen).joints
    assert (got.double() - ref).abs().max() < 1e-4


def test_anny_layer_gradients_reach_pose_and_shape(anny_layer):
    R = anny_layer.mean_orientations[None].clone().requires_grad_(True)
    phen = torch.full((1, 6), 0.5, requires_grad=True)
    anny_layer(R, phen).joints.square().sum().backward()
    assert R.grad.abs().sum() > 0 and phen.grad.abs().sum() > 0


def test_backbone_weights_load_with_prefixes_and_report(tmp_path):
    """A ViTPose-style file ('backbone.' prefix, class-token slot in the position embedding, an extra head) loads
    by name; the report counts what matched, what was missing or foreign."""
    from safetensors.torch import save_file

    cfg = CONFIGS["tiny"].backbone
    torch.manual_seed(0)
    src = ViTBackbone(cfg)
    state = {f"backbone.{k}": v.clone() for k, v in src.vit.state_dict().items()}
    state["backbone.pos_embed"] = torch.cat([torch.zeros(1, 1, cfg.embed_dim), state["backbone.pos_embed"]], 1)
    state["keypoint_head.final.weight"] = torch.zeros(17, 64)
    del state["backbone.norm.weight"]
    path = tmp_path / "vitpose_like.pth"
    torch.save({"state_dict": state}, path)
    dst = ViTBackbone(cfg)
    report = load_backbone_weights(dst, path)
    assert report.missing == ("norm.weight",)
    assert "keypoint_head.final.weight" in report.unexpected
    assert report.resized == ("pos_embed",)
    x = torch.randn(1, 3, 256, 192)
    for k, v in src.vit.state_dict().items():
        if k != "norm.weight":
            assert torch.equal(dst.vit.state_dict()[k], v), k
    assert report.summary().startswith(str(path))
    save_file({"head.weight": torch.zeros(3, 3)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(InputFileError, match="no tensor matches"):
        load_backbone_weights(dst, tmp_path / "other.safetensors")
    with pytest.raises(InputFileError, match="not found"):
        load_backbone_weights(dst, tmp_path / "missing.pth")
    assert dst(x).shape == (1, 64, 16, 12)


def test_config_toml_round_trip_and_errors(tmp_path):
    cfg = CONFIGS["small"]
    path = tmp_path / "mine.toml"
    path.write_text(cfg.to_toml())
    back = load_config(path)
    assert back.to_dict() == {**cfg.to_dict(), "name": "small"}
    path.write_text(cfg.to_toml().replace("queries = 96", "querys = 96"))
    with pytest.raises(ConfigError, match="unknown key 'decoder.querys'.*queries"):
        load_config(path)
    with pytest.raises(ConfigError, match="body_model"):
        MQHMRConfig(body_model="smplx")
    with pytest.raises(ConfigError, match="unknown MQ-HMR config"):
        load_config("huge")
