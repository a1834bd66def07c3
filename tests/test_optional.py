"""Optional packages (optional.py): the advice when one is missing works from a checkout and from an install."""

from __future__ import annotations

import pytest


def test_missing_package_advice_gives_the_form_that_works_from_a_checkout():
    """Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.optional import MissingPackageError, require

    with pytest.raises(MissingPackageError) as raised:
        require("no_such_module_here", "flying", pip="wings")
    assert 'pip install -e ".[realtime]"' in str(raised.value) and 'pip install "tutorial_style[realtime]"' in str(
        raised.value
    )
