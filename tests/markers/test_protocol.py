"""The default landmark protocol and the automatic protocol derived from a model's markers."""
from __future__ import annotations

from biopose_opensim.io import read_trc
from biopose_opensim.markers.protocol import build_protocol
from biopose_opensim.markers.vocabulary import body_hint, classify_marker, marker_renames
from biopose_opensim.osim import read_model_info


def test_renames_lab_names_to_default_model(default_model, rajagopal_walk_dir):
    info = read_model_info(default_model)
    static = read_trc(rajagopal_walk_dir / "ExpData" / "static_walk_1.trc")
    r = marker_renames(static.marker_names, info.marker_names)
    assert r["R.ASIS"] == "RASI" and r["L.Knee"] == "LLFC" and r["R.MAnkle"] == "RMMAL" and r["R_HJC"] == "RHJC"
    assert r["R.Heel"] == "RCAL" and r["L.Shoulder"] == "LACR" and r["R.Wrist"] == "RFAulna"
    assert "R.TH1" not in r  # a cluster is not a landmark
    # names the model has are never renamed, and nothing is renamed onto a name the trial already uses
    assert marker_renames(["RASI", "R.ASIS"], info.marker_names) == {}


def test_classification_and_body_hints():
    assert classify_marker("RASI") == "bony" and classify_marker("R.Knee.Lat") == "bony"
    assert classify_marker("R.TH1") == "cluster" and classify_marker("L.Thigh.Front") == "cluster"
    assert classify_marker("R_HJC") == "virtual" and classify_marker("L.HeelGround") == "virtual"
    bodies = ["pelvis", "femur_r", "tibia_l", "torso", "radius_r"]
    assert body_hint("R.TH2", bodies) == "femur_r" and body_hint("L.SH1", bodies) == "tibia_l"
    assert body_hint("S2", bodies) == "pelvis" and body_hint("R.Wrist", bodies) == "radius_r"
    assert body_hint("R.Biceps", bodies) is None  # no humerus_r in this model


def test_default_protocol_on_gait2392_names(gait2392_dir):
    info = read_model_info(gait2392_dir / "gait2392_simbody.osim", gait2392_dir / "gait2392_Scale_MarkerSet.xml")
    static = read_trc(gait2392_dir / "subject01_static.trc")
    p = build_protocol(info, static.marker_names, info.marker_names)
    by_name = {m.name: m for m in p.measurements}
    assert by_name["pelvis"].marker_pairs[0] == ("R.ASIS", "L.ASIS")
    assert by_name["thigh_r"].marker_pairs == (("R.ASIS", "R.Knee.Lat"),)  # no hip joint centre in this trial
    assert dict(p.measurement_sources)["shank_l"] == "default"
    assert not p.unscaled_bodies  # toes, talus inherit through the rules
    w = {t.name: t.weight for t in p.ik_tasks}
    assert w["R.ASIS"] > w["R.Thigh.Upper"] > 0  # bony landmarks outweigh clusters
    placer = {t.name: t.weight for t in p.placer_tasks}
    assert placer["R.Thigh.Upper"] == 0  # clusters are placed, not fitted


def test_automatic_protocol_for_unknown_names(tmp_path, gait2392_dir):
    # the same model with every marker renamed: no landmark rule applies, the protocol is derived
    text = (gait2392_dir / "gait2392_Scale_MarkerSet.xml").read_text()
    info0 = read_model_info(gait2392_dir / "gait2392_simbody.osim", gait2392_dir / "gait2392_Scale_MarkerSet.xml")
    mapping = {n: f"M{i:02d}" for i, n in enumerate(info0.marker_names)}
    for old, new in mapping.items():
        text = text.replace(f'<Marker name="{old}">', f'<Marker name="{new}">')
    path = tmp_path / "anon.xml"
    path.write_text(text)
    info = read_model_info(gait2392_dir / "gait2392_simbody.osim", path)
    p = build_protocol(info, info.marker_names, info.marker_names)
    assert {s for _, s in p.measurement_sources} == {"auto"}
    scaled = {b for m in p.measurements for b, _ in m.body_scales}
    assert {"pelvis", "femur_r", "tibia_l", "torso"} <= scaled
    femur = next(m for m in p.measurements if ("femur_r", "X Y Z") in m.body_scales)
    knee_lat = mapping["R.Knee.Lat"]
    assert any(knee_lat in pair or mapping["R.Knee.Med"] in pair for pair in femur.marker_pairs)
    assert all(info.marker(a).body != info.marker(b).body or info.marker(a).body == "femur_r"
               for a, b in femur.marker_pairs)
