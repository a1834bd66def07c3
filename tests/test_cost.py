"""Time and memory estimates (cost.py): linear in the pixels and the steps, L-BFGS's history counted, the free
memory known without psutil. From issue 5's reliability work."""

from __future__ import annotations

import io
import os

import pytest
import torch

import tutorial_style.cost as cost
from tutorial_style.cost import estimate_cost


def test_the_estimate_grows_linearly_and_lbfgs_needs_more_memory():
    t1, m1 = estimate_cost(128, 128, steps=100)
    t2, m2 = estimate_cost(256, 256, steps=100)
    t3, m3 = estimate_cost(128, 128, batch=3, steps=200)
    assert t2 == pytest.approx(4 * t1) and m2 == pytest.approx(4 * m1)
    assert t3 == pytest.approx(6 * t1) and m3 == pytest.approx(3 * estimate_cost(128, 128, steps=200)[1])
    # L-BFGS keeps at most one pair per step (up to 100): a 70-step run needs less than a 500-step one
    assert (
        estimate_cost(128, 128, steps=70)[1]
        < estimate_cost(128, 128, steps=500)[1]
        == estimate_cost(128, 128, steps=101)[1]
    )
    assert estimate_cost(128, 128, optimizer="adam")[1] < estimate_cost(128, 128, optimizer="lbfgs")[1]
    assert estimate_cost(512, 512, device="cuda")[0] < estimate_cost(512, 512, device="cpu")[0]


def test_free_memory_is_known_without_psutil(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psutil)
    if os.path.isfile("/proc/meminfo"):  # Linux, CI: the real file
        with open("/proc/meminfo") as f:
            listed = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
        free = cost.available_memory(torch.device("cpu"))
        assert isinstance(free, int) and abs(free - listed) < 0.5 * listed, (free, listed)
    # and a stand-in file, the same on every system
    real_open = builtins.open
    meminfo = "MemTotal:       16318412 kB\nMemFree:         1038824 kB\nMemAvailable:    9876543 kB\n"

    def fake_open(path, *args, **kwargs):
        return io.StringIO(meminfo) if str(path) == "/proc/meminfo" else real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert cost.available_memory(torch.device("cpu")) == 9876543 * 1024
