"""Notebook support: what the notebooks show and ask, kept apart from the paper's algorithm.

``widgets`` lists every ready-made control panel (one module per notebook: ``features``, ``reconstruct``,
``studio``, ``explorers``, built from ``panels``), ``plots`` draws the figures, ``checks`` answers the exercises,
and ``profiles`` picks each notebook's sizes and steps for the machine it runs on.
These modules import matplotlib and ipywidgets; the rest of the package (and the command line) never does.
"""
