"""Synthetic OpenSim-labelled datasets: virtual subjects × motions → virtual markers → ``label`` → shards.

``python -m biopose_opensim.synth --out DIR --subjects N --seed S`` builds one; see ``docs/datasets.md``
for the format (:mod:`.dataset`) and the card (:mod:`.card`).
"""
