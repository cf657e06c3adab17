"""The marker vocabulary: anatomical landmarks and the names they go by, and which markers are bony.

Every question "what is this marker?" is answered here, from names alone (no model, no OpenSim):

- **Landmarks and aliases**: each :class:`Landmark` lists the names it goes by (the default model's own name
  first, e.g. ``RASI``, then common lab spellings such as ``R.ASIS``, ``RASIS``, ``r_ASIS``);
  :func:`landmark_of` finds the landmark of a name, :func:`marker_renames` renames a trial's markers onto a
  model's through them (``R.ASIS`` -> ``RASI``), :func:`body_hint` guesses a marker's body from its name.
- **Marker kinds** for lab marker data (:func:`classify_marker`): ``bony`` (on palpable bone), ``cluster``
  (skin clusters, tracking markers) or ``virtual`` (joint centres, midpoints, ground projections). A name that
  is neither a known landmark nor looks virtual or clustered counts as bony; the Scale/IK weights of
  :mod:`.protocol` follow these kinds.
- **Bony marker names** for label masks and the MPBLPE metric: a virtual-marker set's ``bony`` group
  (:func:`bony_markers_of_set`; D3KE's is :data:`D3KE_BONY`), else the known bony names :data:`BONY_MARKERS`
  in four naming schemes (:func:`bony_markers`). The default model's bony landmarks, with what each one is,
  are :data:`DEFAULT_MODEL_BONY_LANDMARKS`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

#: Marker kinds of lab marker data; ``bony`` is also the name of the bony group of a virtual-marker set.
BONY, CLUSTER, VIRTUAL = "bony", "cluster", "virtual"
#: Groups of a virtual-marker set (``group:`` of a ``marker_sets/*.yaml`` entry); they choose its IK weights.
MARKER_GROUPS = (BONY, "surface", "joint", "midpoint", "ground")


@dataclass(frozen=True)
class Landmark:
    """An anatomical landmark and the marker names it goes by (``{S}``/``{s}``: side letter R/L or r/l).

    Attributes:
        key: landmark key (``ASIS``); a sided landmark's id is ``<side>_<key>`` (``R_ASIS``).
        body: body of the default model it sits on (documentation).
        kind: ``bony``, ``cluster`` or ``virtual``.
        aliases: name patterns, the default model's name first.
        ik_weight: IK weight when not the kind's (:data:`~.protocol.IK_WEIGHTS`); None: the kind's.
        sided: one landmark per side (R/L) or a single midline one.
    """

    key: str
    body: str
    kind: str
    aliases: tuple[str, ...]
    ik_weight: float | None = None
    sided: bool = True

    def names(self, side: str) -> tuple[str, ...]:
        """The marker names of this landmark on ``side`` (``R``, ``L`` or ``""`` when unsided)."""
        return tuple(a.replace("{S}", side).replace("{s}", side.lower()) for a in self.aliases)


def _lm(key, body, kind, *aliases, ik_weight=None, sided=True) -> Landmark:
    return Landmark(key, body, kind, tuple(aliases), ik_weight, sided)


#: Landmarks of the default protocol. The first alias is the default model's marker name.
LANDMARKS: tuple[Landmark, ...] = (
    _lm("ASIS", "pelvis", BONY, "{S}ASI", "{S}.ASIS", "{S}ASIS", "{S}_ASIS", "{s}_ASIS", "{S}IAS"),
    _lm("PSIS", "pelvis", BONY, "{S}PSI", "{S}.PSIS", "{S}PSIS", "{S}_PSIS", "{s}_PSIS", "{S}IPS"),
    _lm("SACRUM", "pelvis", BONY, "SACR", "S2", "V.Sacral", "Sacral", "SACRUM", sided=False),
    _lm("HJC", "femur", VIRTUAL, "{S}HJC", "{S}_HJC", "{S}.HJC", "{s}_HJC", "{S}HipJC"),
    _lm("LFC", "femur", BONY, "{S}LFC", "{S}.Knee", "{S}.Knee.Lat", "{S}KNE", "{S}LEP", "{s}_knee", "{S}_Knee"),
    _lm("MFC", "femur", BONY, "{S}MFC", "{S}.MKnee", "{S}.Knee.Med", "{S}KNM", "{S}MEP", "{s}_mknee", "{S}MKNE",
        ik_weight=5.0),
    _lm("KJC", "tibia", VIRTUAL, "{S}KJC", "{S}_KJC", "{S}.KJC"),
    _lm("LMAL", "tibia", BONY, "{S}LMAL", "{S}.Ankle", "{S}.Ankle.Lat", "{S}ANK", "{s}_ankle", "{S}LMA"),
    _lm("MMAL", "tibia", BONY, "{S}MMAL", "{S}.MAnkle", "{S}.Ankle.Med", "{S}MED", "{S}ANM", "{s}_mankle", "{S}MMA",
        ik_weight=5.0),
    _lm("AJC", "talus", VIRTUAL, "{S}AJC", "{S}_AJC", "{S}.AJC"),
    _lm("CAL", "calcn", BONY, "{S}CAL", "{S}.Heel", "{S}HEE", "{s}_calc", "{S}HEEL"),
    _lm("TOE", "calcn", BONY, "{S}TOE", "{S}.Toe", "{S}.Toe.Tip", "{s}_toe", ik_weight=5.0),
    _lm("MT5", "calcn", BONY, "{S}MT5", "{S}.MT5", "{s}_5meta", "{S}5MT", ik_weight=5.0),
    _lm("ACR", "torso", BONY, "{S}ACR", "{S}.Shoulder", "{S}.Acromium", "{S}.Acromion", "{S}SHO", "{s}_shoulder",
        ik_weight=5.0),
    _lm("C7", "torso", BONY, "C7", "V.C7", "CV7", ik_weight=5.0, sided=False),
    _lm("CLAV", "torso", BONY, "CLAV", "IJ", "MidClavicle", ik_weight=5.0, sided=False),
    # a marker on each clavicle, near the sternoclavicular joint (no marker of the default model)
    _lm("SCL", "torso", BONY, "{S}.Clavicle", "{S}_Clavicle", "{S}Clavicle", "{s}_clavicle", "{S}CLV",
        ik_weight=5.0),
    _lm("SJC", "humerus", VIRTUAL, "{S}SJC", "{S}_SJC", "{S}.SJC"),
    _lm("LEL", "humerus", BONY, "{S}LEL", "{S}.Elbow", "{S}.Elbow.Lat", "{S}ELB", "{s}_lelbow", "{S}LHE",
        ik_weight=5.0),
    _lm("MEL", "humerus", BONY, "{S}MEL", "{S}.MElbow", "{S}.Elbow.Med", "{S}ELBM", "{s}_melbow", "{S}MHE",
        ik_weight=5.0),
    _lm("EJC", "ulna", VIRTUAL, "{S}EJC", "{S}_EJC"),
    _lm("RSTY", "radius", BONY, "{S}FAradius", "{S}WRA", "{s}_lwrist", "{S}RSP", "{S}.Radius", ik_weight=5.0),
    # a single "wrist" marker is taken as the ulnar styloid (the side most labs put it on)
    _lm("USTY", "radius", BONY, "{S}FAulna", "{S}WRB", "{s}_mwrist", "{S}USP", "{S}.Ulna", "{S}.Wrist", "{S}WRI",
        "{S}_Wrist", ik_weight=5.0),
)


def _build_alias_index() -> dict[str, tuple[Landmark, str]]:
    index: dict[str, tuple[Landmark, str]] = {}
    for lm in LANDMARKS:
        sides = ("R", "L") if lm.sided else ("",)
        for side in sides:
            ident = f"{side}_{lm.key}" if side else lm.key
            for alias in lm.names(side):
                index.setdefault(alias.lower(), (lm, ident))
    return index


_ALIAS_INDEX = _build_alias_index()


def landmark_of(name: str) -> tuple[Landmark, str] | None:
    """The landmark a marker name stands for and its id ("R_ASIS", "SACRUM"), or None (case-insensitive)."""
    return _ALIAS_INDEX.get(name.lower())


def marker_renames(trial_names: Iterable[str], model_names: Iterable[str]) -> dict[str, str]:
    """Trial marker -> model marker renames through the landmark aliases.

    Only trial names the model lacks are renamed, only onto a model name that is not already a trial name, and
    each model name receives at most one trial marker.
    """
    trial = list(trial_names)
    model = list(model_names)
    model_set, trial_set = set(model), set(trial)
    by_landmark: dict[str, str] = {}
    for name in model:
        hit = landmark_of(name)
        if hit is not None:
            by_landmark.setdefault(hit[1], name)
    renames: dict[str, str] = {}
    taken: set[str] = set()
    for name in trial:
        if name in model_set:
            continue
        hit = landmark_of(name)
        if hit is None:
            continue
        target = by_landmark.get(hit[1])
        if target is None or target in trial_set or target in taken:
            continue
        renames[name] = target
        taken.add(target)
    return renames


_VIRTUAL_RE = re.compile(r"(JC$|JC[_.]|Joint|Ground$|^Mid)", re.IGNORECASE)
_CLUSTER_RE = re.compile(
    r"(TH\d|SH\d|TB\d|UA\d|FA(superior)?$|Thigh|Shank|Cluster|Bicep|Forearm|Upper|Front|Rear|Midfoot|Toe\.(Lat|Med))",
    re.IGNORECASE,
)


def classify_marker(name: str) -> str:
    """"virtual" (joint centres, midpoints, ground projections), "cluster" (skin clusters) or "bony"."""
    lm = landmark_of(name)
    if lm is not None:
        return lm[0].kind
    if _VIRTUAL_RE.search(name):
        return VIRTUAL
    if _CLUSTER_RE.search(name):
        return CLUSTER
    return BONY


#: (pattern on a marker name without its side prefix, body with ``{s}`` for the side); first match wins
_SIDED_BODY_HINTS = (
    (r"(TH\d*|THI\d*|Thigh.*|UpperLeg\d*)", "femur_{s}"),
    (r"(SH\d*|TB\d*|TIB\d*|Shank.*|Tibia.*|LowerLeg\d*)", "tibia_{s}"),
    (r"(Biceps?|UA\d*|UpperArm\d*|Arm\d*)", "humerus_{s}"),
    (r"(Forearm\d*|FA\d*|FAsuperior)", "ulna_{s}"),
    (r"(Wrist.*|WR[AB]?|WRI|Radius|Ulna)", "radius_{s}"),
    (r"(Hand.*|FIN|MCP\d*|Finger.*)", "hand_{s}"),
    (r"(Clavicle|Scapula.*)", "torso"),
    (r"(Temple|Ear|FHD|BHD)", "head"),  # only for models with a head body; the head moves on the torso
    (r"(Midfoot.*|Toe\..*|Foot.*|MT\d*|Heel.*|TOE.*)", "calcn_{s}"),
)
_UNSIDED_BODY_HINTS = (
    (r"(S2|SACR.*|V\.?Sacral|Sacral|Sacrum|MidPSIS|MidASIS)", "pelvis"),
    (r"(Sternum|STRN|C7|T\d+|Top\.?Head|Head|MidClavicle|IJ|PX|CLAV)", "torso"),
)
_SIDE_RE = re.compile(r"^([RL])(?:[._]|(?=[A-Z0-9]))(.+)$|^([rl])_(.+)$")


def body_hint(name: str, body_names: Iterable[str]) -> str | None:
    """The body a marker name suggests (``R.TH1`` -> ``femur_r``, ``S2`` -> ``pelvis``), if the model has it."""
    bodies = set(body_names)
    for pattern, body in _UNSIDED_BODY_HINTS:
        if re.fullmatch(pattern, name, re.IGNORECASE) and body in bodies:
            return body
    m = _SIDE_RE.match(name)
    if m is None:
        return None
    side = (m.group(1) or m.group(3)).lower()
    rest = m.group(2) or m.group(4)
    for pattern, body in _SIDED_BODY_HINTS:
        if re.fullmatch(pattern, rest, re.IGNORECASE):
            target = body.replace("{s}", side)
            return target if target in bodies else None
    return None


# --- bony marker names -------------------------------------------------------------------------------------

_SIDES = ("L", "R")

#: D3KE surface markers on bony landmarks (a D3KE set's ``bony`` group, IK weight 10); its other surface
#: markers are "surface" (IK weight 2): the spine tracking markers and fingertips, and the acromion markers
#: LSHO/RSHO, whose skin both body models skin partly to the upper arm (about half in Anny), so that they follow
#: arm elevation.
D3KE_BONY: frozenset[str] = frozenset({
    "STRN", "T1", "T8", "T10", "T12", "C7", "CLAV", "LANK", "RANK", "LANI", "RANI", "LASI", "RASI", "LPSI", "RPSI",
    "LTOE", "RTOE", "RHEE", "LHEE", "LKNE", "RKNE", "LKNI", "RKNI", "RIWR", "LIWR", "RELB", "LELB",
    "RELBIN", "LELBIN", "LOWR", "ROWR", "RCLAV", "LCLAV", "RFHD", "LBHD", "LFHD", "RBHD", "LMT1", "LMT5", "RMT1",
    "RMT5",
})
#: D3KE's spine tracking markers: over the spinous processes, bony for label masks though IK weighs them as
#: surface markers.
_D3KE_SPINE = frozenset(f"Tracking_{v}" for v in ("L1", "L2", "L3", "L4", "L5", "T2", "T3", "T4", "T5", "T6", "T7",
                                                  "T9", "T11"))

#: Bony landmarks of the default model (``RajagopalLaiUhlrich2023.osim``; same names in Rajagopal 2015/2016),
#: marker name -> anatomical landmark, for the MPBLPE metric and the FK layer's joint-position loss; as opposed
#: to technical cluster markers (``RUA1``, ``RTH2``...), shoulder-shell markers (``RASH``...) and virtual
#: joint-centre markers (``RHJC``...). Order: trunk, arms, pelvis, legs; right before left.
DEFAULT_MODEL_BONY_LANDMARKS: dict[str, str] = {
    "C7": "spinous process of the 7th cervical vertebra",
    "CLAV": "jugular notch (top of the sternum, between the clavicles)",
    "RACR": "right acromion",
    "LACR": "left acromion",
    "RLEL": "right lateral humeral epicondyle",
    "RMEL": "right medial humeral epicondyle",
    "LLEL": "left lateral humeral epicondyle",
    "LMEL": "left medial humeral epicondyle",
    "RFAradius": "right radial styloid process",
    "RFAulna": "right ulnar styloid process",
    "LFAradius": "left radial styloid process",
    "LFAulna": "left ulnar styloid process",
    "RASI": "right anterior superior iliac spine",
    "LASI": "left anterior superior iliac spine",
    "RPSI": "right posterior superior iliac spine",
    "LPSI": "left posterior superior iliac spine",
    "RLFC": "right lateral femoral epicondyle",
    "RMFC": "right medial femoral epicondyle",
    "LLFC": "left lateral femoral epicondyle",
    "LMFC": "left medial femoral epicondyle",
    "RLMAL": "right lateral malleolus",
    "RMMAL": "right medial malleolus",
    "LLMAL": "left lateral malleolus",
    "LMMAL": "left medial malleolus",
    "RCAL": "right calcaneus (posterior heel)",
    "LCAL": "left calcaneus (posterior heel)",
    "RMT5": "right 5th metatarsal head",
    "LMT5": "left 5th metatarsal head",
    "RTOE": "right toe (2nd metatarsal head / hallux)",
    "LTOE": "left toe (2nd metatarsal head / hallux)",
}

#: OpenCap (LaiUhlrich2022 marker set, augmented "_study" markers) landmarks over bone.
_OPENCAP = frozenset({"C7_study", "r_C7_study"} | {f"{s}.{n}_study" for s in ("r", "L") for n in ("ASIS", "PSIS")} | {
    f"{s}_{n}_study" for s in ("r", "L") for n in ("knee", "mknee", "ankle", "mankle", "toe", "5meta", "calc",
                                                    "shoulder", "lelbow", "melbow", "lwrist", "mwrist")
})
#: Lab marker sets written "R.ASIS" (e.g. the Rajagopal 2016 walking data).
_LAB = frozenset({"S2", "C7"} | {f"{s}.{n}" for s in _SIDES
                                 for n in ("ASIS", "PSIS", "Knee", "MKnee", "Ankle", "MAnkle", "Heel", "MT5", "Toe",
                                           "Shoulder", "Clavicle", "Elbow", "MElbow", "Wrist")})

#: Bony marker names for marker data without groups: skin points over palpable bone in four naming schemes
#: (the D3KE/SMPL surface markers, spine tracking and acromion markers included; the OpenSim
#: Rajagopal/LaiUhlrich landmarks; OpenCap's markers; lab sets written ``R.ASIS``). Joint centres, mid-points,
#: ground projections, thigh/shank cluster points and finger tips are not bony.
BONY_MARKERS: frozenset[str] = frozenset(
    D3KE_BONY | {f"{s}SHO" for s in _SIDES} | _D3KE_SPINE | set(DEFAULT_MODEL_BONY_LANDMARKS) | _OPENCAP | _LAB
)


def bony_markers(marker_names: Sequence[str], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The names in ``marker_names`` that are in :data:`BONY_MARKERS` (or in ``extra``), in their order."""
    bony = BONY_MARKERS | set(extra)
    return tuple(n for n in marker_names if n in bony)


def bony_markers_of_set(marker_set) -> tuple[str, ...]:
    """The bony markers of a :class:`~.sets.VirtualMarkerSet`: its ``bony`` group in set order, or, when the set
    has no such group, :func:`bony_markers` of its names."""
    return tuple(m.name for m in marker_set.markers if m.group == BONY) or bony_markers(marker_set.names)
