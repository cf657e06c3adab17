"""Helpers shared by tests in several folders, imported as ``helpers.<module>``.

``tests/conftest.py`` puts ``tests/`` on ``sys.path``, so ``from helpers.smpl_sequences import write_amass`` resolves
to this package whatever order pytest collects the test folders in (a folder's own ``conftest.py`` is never
imported by name).
"""
