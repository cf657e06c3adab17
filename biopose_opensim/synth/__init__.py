"""Synthetic OpenSim-labelled datasets: virtual subjects × motions → virtual markers → ``label`` → shards.

``python -m biopose_opensim.synth --out DIR --subjects N --seed S`` builds one; see ``docs/datasets.md``
for the card (:mod:`.card`); the format itself lives in :mod:`biopose_opensim.datasets`.
"""
