"""Notebook support: what the notebooks show and ask, kept apart from the paper's algorithm.

A module named ``nbNN_...`` serves notebook NN alone; ``features`` (notebooks 01 and 02) and ``reconstruct`` (03 and
04) serve two each. All are built from ``panels``; ``widgets`` gathers every ready-made panel, ``plots`` draws the
figures, ``checks`` answers the exercises, and ``profiles`` picks each notebook's sizes and steps for the machine it
runs on. These modules import matplotlib and ipywidgets; the rest of the package (and the command line) never does.
"""
