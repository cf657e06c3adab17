"""Virtual subjects: seeded body-model shape parameters with a spread of sex, age, height and build.

Anny subjects are phenotypes in [0, 1] (``gender`` 0 = male … 1 = female, ``age``, ``height``, ``weight``,
``muscle``, ``proportions``). Adult morphological ages are drawn uniformly in ``age_range`` years and
turned into Anny's age phenotype through Anny's own calibration anchors; the height phenotype follows
Anny's age- and sex-conditional Beta distribution of adult height (calibrated to WHO data); weight and
muscle are drawn from Beta(2.5, 2.5) and Beta(2, 2), which spread builds without Anny's U-shaped adult
weight prior (that prior gives many extreme bodies). SMPL/SMPL-X subjects are the first 10 shape
coefficients ``betas`` ~ N(0, 1) clipped to ±2.5. Height (m) and mass (kg) are measured later on the mesh.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..bodymodels.registry import body_model_spec
from ..errors import ConfigError, InputFileError

log = logging.getLogger(__name__)

ANNY_PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")
#: Largest |beta| accepted for SMPL-family shape coefficients (the PCA space is ±3σ-meaningful).
MAX_ABS_BETA = 5.0
#: Anny's anchors mapping its age phenotype to morphological age in years (anny 0.6, shape_calibration).
_ANNY_AGE = np.array([0.0, 0.05, 0.215, 0.415, 0.67, 0.77, 0.83, 1.0])
_YEARS = np.array([0.0, 1.0, 4.0, 11.0, 16.0, 18.0, 64.0, 110.0])
#: Adult (age phenotype ≥ 0.67) height-phenotype Beta(alpha, beta) per sex, from the same calibration.
_ADULT_HEIGHT_BETA = {"male": None, "female": None}


@dataclass(frozen=True)
class SubjectShape:
    """Shape of one virtual subject.

    Attributes:
        name: subject identifier (``s000`` …).
        body_model: a body model ``synth`` drives (:data:`~biopose_opensim.bodymodels.registry.SYNTH_BODY_MODELS`).
        sex: ``"male"`` or ``"female"``.
        age: morphological age, years.
        phenotype: Anny phenotype values in [0, 1] as ``(key, value)`` pairs (empty for SMPL).
        betas: SMPL shape coefficients (empty for Anny).
    """

    name: str
    body_model: str
    sex: str
    age: float
    phenotype: tuple[tuple[str, float], ...] = field(default=())
    betas: tuple[float, ...] = field(default=())

    def phenotype_dict(self) -> dict[str, float]:
        return dict(self.phenotype)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["phenotype"] = self.phenotype_dict()
        d["betas"] = list(self.betas)
        return d


def anny_age_phenotype(years: np.ndarray | float) -> np.ndarray:
    """Anny's age phenotype for morphological ``years`` (piecewise linear, Anny's anchors)."""
    return np.interp(years, _YEARS, _ANNY_AGE)


def _adult_height_beta(sex: str) -> tuple[float, float]:
    """Beta(alpha, beta) of Anny's adult height phenotype for ``sex`` (read once from Anny's calibration)."""
    if _ADULT_HEIGHT_BETA[sex] is None:
        try:
            import torch
            from anny.paths import get_anny_root_dir

            sd = torch.load(Path(get_anny_root_dir()) / "data" / "shape_calibration" /
                            ("boys.pth" if sex == "male" else "girls.pth"), weights_only=True, map_location="cpu")
            h = sd["conditional_height_distribution"]
            _ADULT_HEIGHT_BETA[sex] = (float(h["alpha_anchors"][-1]), float(h["beta_anchors"][-1]))
        except Exception as exc:  # anny missing or its data moved: a neutral adult spread
            log.debug("Anny height calibration unavailable (%s); using Beta(15, 20)", exc)
            _ADULT_HEIGHT_BETA[sex] = (15.0, 20.0)
    return _ADULT_HEIGHT_BETA[sex]  # type: ignore[return-value]


def sample_subjects(
    n: int, seed: int, body_model: str = "anny", age_range: tuple[float, float] = (18.0, 70.0),
    n_betas: int = 10,
) -> list[SubjectShape]:
    """Draw ``n`` subjects (alternating sex, seeded) for ``body_model``."""
    anny = body_model_spec(body_model, synth=True).family == "anny"
    if n < 1:
        raise ConfigError(f"--subjects must be at least 1, got {n}")
    lo, hi = age_range
    if not 0 < lo <= hi <= 110:
        raise ConfigError(f"age range must satisfy 0 < min <= max <= 110 years, got {age_range}")
    rng = np.random.default_rng(seed)
    first_female = bool(rng.integers(0, 2))
    out = []
    for i in range(n):
        sex = "female" if (i % 2 == 0) == first_female else "male"
        age = float(rng.uniform(lo, hi))
        if anny:
            a, b = _adult_height_beta(sex)
            pheno = {
                "gender": float(rng.uniform(0.85, 1.0) if sex == "female" else rng.uniform(0.0, 0.15)),
                "age": float(anny_age_phenotype(age)),
                "muscle": float(rng.beta(2.0, 2.0)),
                "weight": float(rng.beta(2.5, 2.5)),
                "height": float(rng.beta(a, b)),
                "proportions": float(rng.uniform(0.25, 0.75)),
            }
            out.append(SubjectShape(f"s{i:03d}", body_model, sex, round(age, 1),
                                    phenotype=tuple((k, round(v, 4)) for k, v in pheno.items())))
        else:
            betas = np.clip(rng.normal(0.0, 1.0, size=n_betas), -2.5, 2.5)
            out.append(SubjectShape(f"s{i:03d}", body_model, sex, round(age, 1),
                                    betas=tuple(round(float(b), 4) for b in betas)))
    return out


def validate_shape(shape: SubjectShape, source: str = "subject") -> SubjectShape:
    """Raise :class:`ConfigError` naming the subject and parameter when a shape value is out of range."""
    family = body_model_spec(shape.body_model, synth=True).family
    if shape.sex not in ("male", "female"):
        raise ConfigError(f"{source}: subject {shape.name!r} has sex {shape.sex!r}; expected 'male' or 'female'")
    if not 0 < shape.age <= 110:
        raise ConfigError(f"{source}: subject {shape.name!r} has age {shape.age} years; expected 0 < age <= 110")
    for key, value in shape.phenotype:
        if key not in ANNY_PHENOTYPES:
            raise ConfigError(f"{source}: subject {shape.name!r}: unknown Anny phenotype {key!r}; "
                              f"expected one of {', '.join(ANNY_PHENOTYPES)}")
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{source}: subject {shape.name!r}: phenotype {key}={value} is out of range [0, 1]")
    for k, b in enumerate(shape.betas):
        if not abs(b) <= MAX_ABS_BETA:
            raise ConfigError(f"{source}: subject {shape.name!r}: betas[{k}]={b} is out of range "
                              f"[-{MAX_ABS_BETA}, {MAX_ABS_BETA}]")
    if family == "anny" and shape.betas:
        raise ConfigError(f"{source}: subject {shape.name!r} is an Anny subject but gives SMPL betas")
    if family != "anny" and shape.phenotype:
        raise ConfigError(f"{source}: subject {shape.name!r} is an SMPL subject but gives Anny phenotypes")
    return shape


def load_shapes(path: str | Path, body_model: str) -> list[SubjectShape]:
    """Read subjects from a JSON or YAML list of ``{name, sex, age, phenotype: {..}}`` / ``{.., betas: [..]}``.

    Missing Anny phenotypes default to 0.5; every value is range-checked (:func:`validate_shape`).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "subject shape file not found; expected a JSON or YAML list of subjects")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            raw = json.loads(text)
        else:
            import yaml

            raw = yaml.safe_load(text)
    except Exception as exc:
        raise InputFileError(path, f"cannot parse subject shapes: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise InputFileError(path, "expected a non-empty list of subjects")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputFileError(path, f"subject {i + 1}: expected a mapping with name/sex/age/phenotype or betas")
        bm = str(item.get("body_model", body_model))
        anny = body_model_spec(bm, synth=True).family == "anny"
        pheno = item.get("phenotype") or {}
        if anny:
            pheno = {**{k: 0.5 for k in ANNY_PHENOTYPES}, **{str(k): float(v) for k, v in pheno.items()}}
        try:
            shape = SubjectShape(
                name=str(item.get("name", f"s{i:03d}")), body_model=bm, sex=str(item.get("sex", "female")),
                age=float(item.get("age", 30.0)), phenotype=tuple(pheno.items()) if anny else (),
                betas=tuple(float(b) for b in item.get("betas", ())))
        except (TypeError, ValueError) as exc:
            raise InputFileError(path, f"subject {i + 1}: {exc}") from None
        out.append(validate_shape(shape, str(path)))
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError(path, f"subject names repeated: {', '.join(dupes)}")
    return out


def split_subjects(names: Sequence[str], seed: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
                   ) -> dict[str, str]:
    """Subject-wise train/val/test split: subject name -> ``"train" | "val" | "test"``.

    Seeded shuffle, then counts rounded from ``fractions``; with 2 subjects or more the test split has at
    least one subject, with 3 or more the validation split too, and train always keeps at least one.
    """
    names = list(names)
    n = len(names)
    if any(f < 0 for f in fractions) or not abs(sum(fractions) - 1.0) < 1e-6:
        raise ConfigError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    n_test = int(round(fractions[2] * n))
    n_val = int(round(fractions[1] * n))
    if n >= 2 and fractions[2] > 0:
        n_test = max(n_test, 1)
    if n >= 3 and fractions[1] > 0:
        n_val = max(n_val, 1)
    while n_test + n_val > n - 1 and (n_test or n_val):
        if n_val >= n_test and n_val > 0:
            n_val -= 1
        else:
            n_test -= 1
    order = np.random.default_rng(seed).permutation(n)
    out = {}
    for rank, idx in enumerate(order):
        out[names[idx]] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    return {k: out[k] for k in names}
