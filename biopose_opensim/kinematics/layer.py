"""``OsimFK``: an OpenSim model as a differentiable, batched PyTorch forward-kinematics layer.

Conventions (see ``docs/kinematics.md``):

- ``q`` (..., n_coords): the model's *independent* coordinates in ``CoordinateSet`` order (the order of
  ``.mot`` files), radians for rotations, metres for translations. Coordinates that a
  ``CoordinateCouplerConstraint`` makes dependent (e.g. ``knee_angle_r_beta``) are not inputs: they are derived
  as OpenSim does (``full_coordinates``). Locked coordinates *are* inputs: OpenSim holds them at their value,
  so pass that value (``default_q()`` holds each coordinate's default); the layer uses whatever it is given.
  Values outside a coordinate's range are not clamped (gradients stay informative); OpenSim would clamp
  ``clamped`` coordinates when set through ``Coordinate.setValue``.
- ``s`` (..., n_bodies, 3): per-body scale factors (x, y, z), ``body_names`` order, with OpenSim ScaleTool
  (``Model::scale``) semantics: offset-frame translations and marker locations are scaled element-wise by their
  base body's factors, and each ``CustomJoint`` translation function (except ``LinearFunction(1, 0)``) is
  multiplied by ``|axis| . s_parent``. ``s=None`` is the unscaled model.
- Outputs are in the ground frame (y up), metres: ``body_transforms`` (..., NB, 4, 4) body -> ground,
  ``joint_centers`` (..., NJ, 3) each joint's child-frame origin, ``markers`` (..., M, 3).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import MarkerMismatchError
from ..markers.vocabulary import DEFAULT_MODEL_BONY_LANDMARKS
from ..osim.model import MotionType
from . import fk as fkmath
from . import native, unrolled
from .tree import ModelTree, load_model_tree

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FKResult:
    """Forward-kinematics outputs (ground frame, metres).

    Attributes:
        body_transforms: (..., NB, 4, 4) homogeneous transforms body frame -> ground, ``OsimFK.body_names`` order.
        joint_centers: (..., NJ, 3) joint child-frame origins, ``OsimFK.joint_names`` order.
        markers: (..., M, 3) marker positions, ``OsimFK.marker_names`` order.
    """

    body_transforms: torch.Tensor
    joint_centers: torch.Tensor
    markers: torch.Tensor

    @property
    def body_origins(self) -> torch.Tensor:
        """(..., NB, 3) body-frame origins in ground."""
        return self.body_transforms[..., :3, 3]

    @property
    def body_rotations(self) -> torch.Tensor:
        """(..., NB, 3, 3) body -> ground rotations."""
        return self.body_transforms[..., :3, :3]


class OsimFK(nn.Module):
    """Forward kinematics of one OpenSim model; build it with :meth:`from_osim`.

    All parsed constants are buffers (they follow ``.to(device / dtype)``); ``forward`` is pure batched maths
    over any leading batch shape, differentiable in ``q`` and ``s``.
    """

    def __init__(self, tree: ModelTree, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.tree = tree
        self.plan = fkmath.compile_plan(tree)
        for name, tensor in self.plan.tensors(dtype).items():
            self.register_buffer(name, tensor, persistent=False)
        indep = tree.independent_coordinates
        self.coordinate_names: tuple[str, ...] = tuple(c.name for c in indep)
        self.all_coordinate_names: tuple[str, ...] = tree.coordinate_names
        self.dependent_coordinate_names: tuple[str, ...] = tree.dependent_coordinate_names
        self.body_names: tuple[str, ...] = tree.body_names
        self.marker_names: tuple[str, ...] = tree.marker_names
        self.joint_names: tuple[str, ...] = tree.joint_names
        self.register_buffer(
            "coordinate_ranges", torch.tensor([c.range for c in indep], dtype=dtype).reshape(-1, 2), persistent=False
        )
        self.register_buffer(
            "rotational", torch.tensor([c.motion_type == MotionType.ROTATIONAL for c in indep], dtype=torch.bool), persistent=False
        )
        self.register_buffer("locked", torch.tensor([c.locked for c in indep], dtype=torch.bool), persistent=False)
        self.register_buffer(
            "default_values", torch.tensor([c.default_value for c in indep], dtype=dtype), persistent=False
        )
        self.landmark_names: tuple[str, ...] = tuple(n for n in DEFAULT_MODEL_BONY_LANDMARKS if n in self.marker_names)
        self._compile_kwargs: dict | None = None
        self._programs: dict = {}
        #: Which path the last ``forward`` call ran: ``"native"`` (the compiled program as one C++ kernel),
        #: ``"torch.compile"`` (the compiled program) or ``"batched"`` (the eager batched maths); ``None`` before
        #: the first call. A compiled layer runs ``"batched"`` for calls that need gradients or when compiling failed.
        self.last_path: str | None = None

    # ------------------------------------------------------------------------------------------------------
    @classmethod
    def from_osim(
        cls,
        path: str | Path,
        dtype: torch.dtype = torch.float32,
        marker_set: str | Path | None = None,
        device=None,
        compile: bool = False,
    ) -> "OsimFK":
        """Build the layer from an ``.osim`` file (any OpenSim version; OpenSim reads and upgrades it).

        Args:
            path: the model.
            dtype: float32 or float64 for the constants (and expected inputs).
            marker_set: optional OpenSim MarkerSet XML replacing / adding markers (``Model::updateMarkerSet``).
            device: where to put the layer.
            compile: run ``forward`` compiled (:meth:`compile` with its defaults).
        """
        module = cls(load_model_tree(path, marker_set=marker_set), dtype=dtype)
        if device is not None:
            module = module.to(device)
        return module.compile() if compile else module

    @property
    def n_coordinates(self) -> int:
        return len(self.coordinate_names)

    @property
    def n_bodies(self) -> int:
        return len(self.body_names)

    def _consts(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in fkmath.TENSOR_NAMES}

    def default_q(self, *batch: int) -> torch.Tensor:
        """(*batch, n_coords) each independent coordinate's default value (locked ones at their locked value)."""
        return self.default_values.expand(*batch, -1).clone()

    def full_coordinates(self, q: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """(..., n_coords) independent -> (..., n_all) every model coordinate (``all_coordinate_names`` order).

        Dependent coordinates are ``scale_factor * f(independent)`` of their ``CoordinateCouplerConstraint``;
        ``s`` (..., n_bodies, 3) only matters for a translational dependent coordinate (OpenSim scales its
        coupler by the x factor of the joint's parent body).
        """
        self._check_q(q)
        if s is not None:
            s = torch.cat([s, torch.ones_like(s[..., :1, :])], dim=-2)
        return fkmath.full_coordinates(q, self._consts(), self.plan.coupler_waves, s)

    def independent_from_full(self, q_full: torch.Tensor) -> torch.Tensor:
        """(..., n_all) all coordinates (e.g. a ``.mot`` row) -> (..., n_coords) the layer's ``q``."""
        idx = [self.all_coordinate_names.index(n) for n in self.coordinate_names]
        return q_full[..., idx]

    def landmark_indices(self, names: Sequence[str] | None = None) -> torch.Tensor:
        """Marker indices (long, on the layer's device) of ``names`` (default: :attr:`landmark_names`)."""
        names = self.landmark_names if names is None else tuple(names)
        missing = [n for n in names if n not in self.marker_names]
        if missing:
            raise MarkerMismatchError(
                f"markers {missing} are not in model {self.tree.path} (it has {len(self.marker_names)} markers)"
            )
        return torch.tensor([self.marker_names.index(n) for n in names], dtype=torch.long, device=self.rotational.device)

    def _check_q(self, q: torch.Tensor) -> None:
        if q.shape[-1] != self.n_coordinates:
            raise ValueError(
                f"q has {q.shape[-1]} columns; model {self.tree.path.name} has {self.n_coordinates} independent "
                f"coordinates ({', '.join(self.coordinate_names[:4])}, ...)"
            )

    def forward(self, q: torch.Tensor, s: torch.Tensor | None = None) -> FKResult:
        """Forward kinematics.

        Args:
            q: (..., n_coords) independent coordinates, radians / metres, ``coordinate_names`` order.
            s: (..., n_bodies, 3) per-body scale factors, ``body_names`` order, or ``None`` (unscaled).

        Returns:
            :class:`FKResult` in the ground frame, metres.
        """
        self._check_q(q)
        if s is not None:
            if s.shape[-2:] != (self.n_bodies, 3):
                raise ValueError(f"s must be (..., {self.n_bodies}, 3) for {self.tree.path.name}, got {tuple(s.shape)}")
            lead = torch.broadcast_shapes(q.shape[:-1], s.shape[:-2])
            q = q.expand(*lead, -1)
            s = s.expand(*lead, -1, -1)
        needs_grad = torch.is_grad_enabled() and (q.requires_grad or (s is not None and s.requires_grad))
        program = self._program(s is not None) if self._compile_kwargs is not None and not needs_grad else None
        if program is not None:
            try:
                transforms, jc, markers = unrolled.run_program(program, q, s, self._consts(), self.plan)
            except Exception as exc:  # noqa: BLE001  (a failing C++ compiler: keep working, eagerly)
                if not _is_compile_failure(exc):
                    raise
                log.warning("compiling the FK program of %s failed (%s); using the batched path for these calls",
                            self.tree.path.name, str(exc).splitlines()[0][:200])
                self._programs[(s is not None, q.dtype, q.device)] = None
                program = None
            else:
                self.last_path = "native" if isinstance(program, native.NativeProgram) else "torch.compile"
        if program is None:
            transforms, jc, markers = fkmath.forward_kinematics(q, s, self._consts(), self.plan)
            self.last_path = "batched"
        return FKResult(body_transforms=transforms, joint_centers=jc, markers=markers)

    # ------------------------------------------------------------------------------------------------------
    def compile(self, dynamic: bool | None = True, **kwargs) -> "OsimFK":
        """Run inference as the model's unrolled per-frame program (:mod:`.unrolled`), compiled (one C++ kernel
        on CPU, ``torch.compile`` elsewhere): the same results (float64: within 1e-12 m of the batched path),
        several times the throughput at large batches.

        Only calls that need no gradient use it (``torch.no_grad()``, or inputs that do not require grad):
        compiling the program's backward takes minutes and can exceed what the C++ compiler handles (GCC 12
        fails with an internal error on the full-body model), so calls that need gradients run the batched
        path. Compilation happens on the first call of each variant (unscaled / scaled, dtype, device); a C++
        compiler is needed on CPU. On CPU (float32 / float64), unless ``mode``, ``options`` or ``backend`` are
        given, the program is written as one C++ kernel (:mod:`.native`: about 20 s to compile for a full-body
        model, any batch size, OpenMP threads as ``torch.get_num_threads()``); otherwise, or if that kernel
        cannot be built, ``torch.compile`` compiles the program (one to three minutes; ``dynamic=True`` lets one
        compilation serve every batch size; on CPU inductor's C++ wrapper, ``options={"cpp_wrapper": True}``,
        unless ``mode``, ``options`` or ``backend`` are given). The program is built from the
        layer's constants at its first call: later in-place changes to the buffers are not seen by it. Keyword
        arguments go to ``torch.compile``. Returns the layer itself; :attr:`last_path` says which path a call ran.
        """
        self._compile_kwargs = dict(dynamic=dynamic, **kwargs)
        self._programs = {}
        return self

    @property
    def compiled(self) -> bool:
        """Whether ``forward`` runs the compiled unrolled program (see :meth:`compile`)."""
        return self._compile_kwargs is not None

    def _program(self, scaled: bool):
        key = (scaled, self.default_values.dtype, self.default_values.device)
        if key not in self._programs:
            kwargs = dict(self._compile_kwargs)
            default_backend = not {"mode", "options", "backend"} & set(kwargs)
            if key[2].type == "cpu" and default_backend and key[1] in native.DTYPES:
                program = self._native_program(scaled, key[1])
                if program is not None:
                    self._programs[key] = program
                    return program
            # float32: spline lookups inside the program (fastest); float64: done by the batched code first (the
            # float64 program with them is more than GCC 12 handles as inductor writes it).
            lookups = self.default_values.dtype == torch.float32
            if key[2].type == "cpu" and default_backend:
                # Inductor's C++ wrapper: its default Python wrapper spends ~2 ms per call on the program's
                # hundreds of output rows.
                kwargs["options"] = {"cpp_wrapper": True}
            self._programs[key] = tuple(
                torch.compile(part, **kwargs) for part in unrolled.build_program(self.plan, scaled, lookups=lookups)
            )
        return self._programs[key]

    def _native_program(self, scaled: bool, dtype: torch.dtype):
        """The program as one C++ kernel (:mod:`.native`), spline lookups included; ``None`` if it cannot be
        built (then ``torch.compile`` is used)."""
        try:
            graphs = unrolled.build_program(self.plan, scaled, lookups=True)
            return native.NativeProgram(graphs, dtype, self.n_coordinates, 3 * self.n_bodies if scaled else 0)
        except Exception as exc:  # noqa: BLE001  (an operation the emitter lacks, a failing C++ compiler)
            if not isinstance(exc, native.UnsupportedProgram) and not _is_compile_failure(exc):
                raise
            log.warning("the FK kernel of %s could not be built (%s); using torch.compile",
                        self.tree.path.name, str(exc).splitlines()[0][:200])
            return None

    def extra_repr(self) -> str:
        return (
            f"model={self.tree.path.name!r}, coordinates={self.n_coordinates}, bodies={self.n_bodies}, "
            f"markers={len(self.marker_names)}, joints={len(self.joint_names)}"
        )


def _is_compile_failure(exc: BaseException) -> bool:
    """Whether ``exc`` comes from torch.compile's backend (e.g. the C++ compiler crashing), not from the inputs."""
    names = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    return bool(names & {"InductorError", "BackendCompilerFailed", "CppCompileError"})


def random_poses(fk: OsimFK, n: int, rng: np.random.Generator, hold_locked: bool = True) -> np.ndarray:
    """(n, n_coords) float64 poses drawn uniformly within each coordinate's range (locked ones at default)."""
    lo, hi = fk.coordinate_ranges.double().cpu().numpy().T
    q = rng.uniform(lo, hi, size=(n, lo.size))
    if hold_locked:
        locked = fk.locked.cpu().numpy()
        q[:, locked] = fk.default_values.double().cpu().numpy()[locked]
    return q
