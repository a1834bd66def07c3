"""Test-wide settings: quick mode, random weights, and private caches.

Set here, at import, so the notebook kernels that nbval starts inherit them too: the test suite never
touches the network, the user's torch hub cache or the user's tutorial cache.
"""

import os
import tempfile

os.environ["TUTORIAL_STYLE_QUICK"] = "1"
os.environ["TUTORIAL_STYLE_WEIGHTS"] = "random"
os.environ["TUTORIAL_STYLE_CACHE"] = tempfile.mkdtemp(prefix="tutorial_style_cache_")
os.environ["TORCH_HOME"] = tempfile.mkdtemp(prefix="tutorial_style_torch_home_")

# --doctest-modules would also import the conftest files under tests/ as plain modules named "conftest",
# and two of them clash; they hold fixtures, not doctests.
collect_ignore = ["tests/conftest.py", "tests/browser/conftest.py"]
