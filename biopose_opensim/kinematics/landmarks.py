"""Bony landmarks of the default model, by marker name, for the MPBLPE metric and the joint-position loss.

MPBLPE (BioPose) is the mean Euclidean distance of bony landmarks after aligning a common root. The landmarks
are the markers of ``RajagopalLaiUhlrich2023.osim`` (same names in Rajagopal 2015/2016) that sit on palpable
bone, as opposed to technical cluster markers (``RUA1``, ``RTH2``...), shoulder-shell markers (``RASH``...) and
virtual joint-centre markers (``RHJC``...). Joint centres come from the FK layer itself
(``FKResult.joint_centers``, named by ``OsimFK.joint_names``).
"""
from __future__ import annotations

#: marker name -> anatomical landmark (default model). Order: trunk, arms, pelvis, legs; right before left.
BONY_LANDMARKS: dict[str, str] = {
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
