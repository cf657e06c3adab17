"""A NeurIK network with everything needed to use it: the FK layer of its OpenSim model, the output bounds, the
input normalisation, and whole-trial inference with per-frame features reused across windows."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import InputFileError
from ..kinematics import OsimFK
from .augment import Window
from .checkpoint import LoadedCheckpoint, check_identity, identity, read_checkpoint
from .config import NeurIKConfig
from .frames import RootJoint, WindowInputs, frame_inputs, marker_indices, relative_root, window_inputs
from .model import RawOutput, build_network, load_network_state
from .outputs import OutputMap

log = logging.getLogger(__name__)


def marker_set_names(path: Path) -> tuple[str, ...]:
    """Marker names of an OpenSim MarkerSet XML, in file order (read without OpenSim)."""
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise InputFileError(path, f"cannot read the marker set: {exc}") from None
    names = tuple(m.get("name") for m in root.iter("Marker"))
    if not names:
        raise InputFileError(path, "no <Marker> elements: not an OpenSim MarkerSet file")
    return names


@dataclass
class NeurIKSystem:
    """Network + output map + FK layer of one configuration.

    Attributes:
        config: the configuration; fk: the model's FK layer (float32, with the marker set's markers).
        net: :class:`~.model.NeurIK` or :class:`~.model.FrameMLP`; out_map: :class:`~.outputs.OutputMap`.
        marker_names: network input markers in order: the marker set's markers (or the model's own).
        marker_index: (M,) indices of those markers among the FK layer's markers.
        root_idx, front_idx, back_idx: input-marker indices of the normalisation landmarks.
    """

    config: NeurIKConfig
    fk: OsimFK
    net: torch.nn.Module
    out_map: OutputMap
    marker_names: tuple[str, ...]
    marker_index: torch.Tensor
    root_idx: torch.Tensor
    front_idx: torch.Tensor
    back_idx: torch.Tensor

    @property
    def device(self) -> torch.device:
        return self.out_map.ranges.device

    @classmethod
    def build(cls, config: NeurIKConfig, scale_mean: torch.Tensor, scale_amplitude: torch.Tensor,
              fk: OsimFK | None = None, device="cpu") -> "NeurIKSystem":
        """A fresh (untrained) system; ``scale_mean`` / ``scale_amplitude`` (NB, 3) bound the scales."""
        if fk is None:
            fk = OsimFK.from_osim(config.model_path(), marker_set=config.marker_set_path())
        root = RootJoint.from_fk(fk)
        out_map = OutputMap(fk, root, scale_mean, scale_amplitude)
        ms = config.marker_set_path()
        names = marker_set_names(ms) if ms is not None else fk.marker_names
        net = build_network(config.model, len(names), out_map.n_free, fk.n_bodies)
        system = cls(config=config, fk=fk, net=net, out_map=out_map, marker_names=names,
                     marker_index=torch.tensor([fk.marker_names.index(n) for n in names], dtype=torch.long),
                     root_idx=marker_indices(names, config.root_markers, "root"),
                     front_idx=marker_indices(names, config.front_markers, "front"),
                     back_idx=marker_indices(names, config.back_markers, "back"))
        return system.to(device)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device="cpu") -> tuple["NeurIKSystem", LoadedCheckpoint]:
        """Load a checkpoint; its OpenSim model and marker set must be the ones it names (content hashes)."""
        ckpt = read_checkpoint(path)
        config = ckpt.config
        fk = OsimFK.from_osim(config.model_path(), marker_set=config.marker_set_path())
        ms = config.marker_set_path()
        names = marker_set_names(ms) if ms is not None else fk.marker_names
        check_identity(ckpt, identity(config, names, fk.coordinate_names, fk.body_names),
                       f"{config.model_path().name} with {config.marker_set or 'its own markers'}")
        out = ckpt.state("out")
        system = cls.build(config, out["scale_mean"], out["scale_amplitude"], fk=fk)
        load_network_state(system.net, ckpt.state("net"))
        system.out_map.load_state_dict(out)
        system.net.eval()
        return system.to(device), ckpt

    def to(self, device) -> "NeurIKSystem":
        self.fk = self.fk.to(device)
        self.net = self.net.to(device)
        self.out_map = self.out_map.to(device)
        for name in ("marker_index", "root_idx", "front_idx", "back_idx"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def identity(self) -> dict:
        return identity(self.config, self.marker_names, self.fk.coordinate_names, self.fk.body_names)

    # ------------------------------------------------------------------------------------------------------
    def inputs(self, window: Window) -> WindowInputs:
        return window_inputs(window.markers, window.present, self.root_idx, self.front_idx, self.back_idx)

    def output_positions(self) -> slice:
        """Positions within a window of the frames the network outputs."""
        offset = self.config.model.output_offset
        return slice(None) if offset is None else slice(offset, offset + 1)

    def decode(self, raw: RawOutput, inputs: WindowInputs, clamp_root: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw outputs -> ``q`` (B, K, C), ``s`` (B, K, NB, 3) of the output frames."""
        pos = self.output_positions()
        return self.out_map(raw, inputs.origin[:, pos], inputs.heading[:, pos], clamp_root=clamp_root)

    # ------------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_trial(self, markers: torch.Tensor, present: torch.Tensor | None = None,
                      batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Whole-trial inference.

        Args:
            markers: (F, M, 3) metres, ground frame, network marker order (NaN where missing).
            present: (F, M) bool (default: finite markers).
            batch: windows per forward pass.

        Returns:
            ``q`` (F, C) radians / metres (layer order, inside the ranges) and ``s`` (F, NB, 3).

        Each frame's spatial features are computed once; every window reuses them. Frames beyond the trial
        (short trials, the first and last frames) repeat its first / last frame, as in training.
        """
        self.net.eval()
        dev = self.device
        markers = markers.to(dev, torch.float32)
        present = torch.isfinite(markers).all(-1) if present is None else present.to(dev) & torch.isfinite(markers).all(-1)
        F_, T = markers.shape[0], self.config.model.window
        x, origin, heading = frame_inputs(markers, present, self.root_idx, self.front_idx, self.back_idx)
        feats = self.net.frame_features(x)  # (F, D); the network bounds its own temporaries
        offset = self.config.model.output_offset
        frames = torch.arange(F_, device=dev)
        wpos = torch.arange(T, device=dev)
        if offset is None:  # all-frames output: windows every T/2 frames; each frame from the window it is most central in
            half = max(1, T // 2)
            s0 = -(T // 4)
            n = max(1, -(-(F_ - T - s0) // half) + 1)
            anchors = s0 + half * torch.arange(n, device=dev)
            k = ((frames - s0 - (T - 1) / 2) / half).round().long().clamp(0, n - 1)
            pos = frames - anchors[k]
        else:  # one window per frame, the frame at position `offset`
            anchors, k, pos = frames - offset, frames, torch.zeros_like(frames)
        q_out, s_out = [], []
        for i in range(0, len(anchors), batch):
            a = anchors[i:i + batch]
            idx = (a[:, None] + wpos[None]).clamp(0, F_ - 1)  # (b, T)
            rel = relative_root(origin[idx], heading[idx])
            raw = self.net.temporal(feats[idx], rel)
            out_idx = idx if offset is None else idx[:, offset:offset + 1]
            q, s = self.out_map(raw, origin[out_idx], heading[out_idx], clamp_root=True)
            q_out.append(q)
            s_out.append(s)
        q_all, s_all = torch.cat(q_out), torch.cat(s_out)  # (W, K, C), (W, K, NB, 3)
        return q_all[k, pos], s_all[k, pos]
