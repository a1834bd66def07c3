"""`python -m tutorial_style doctor`: the checklist a teacher runs first, each failure with its fix."""

import os
import subprocess
import sys

import pytest

from tutorial_style import doctor
from tutorial_style.cli import main
from tutorial_style.weights import IMAGENET_FILE


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine as a learner has it: no weights chosen, an empty torch hub cache, an empty tutorial cache."""
    monkeypatch.delenv("TUTORIAL_STYLE_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache"))
    return tmp_path


def hub_file(machine):
    return machine / "torch_home" / "hub" / "checkpoints" / IMAGENET_FILE


def by_name(checks):
    return {c.name: c for c in checks}


def test_missing_imagenet_weights_are_named_with_the_fix(machine):
    weights = by_name(doctor.run_checks(probe_network=False))["VGG19 weights"]
    assert not weights.ok and weights.essential
    assert "MISSING" in weights.detail and str(hub_file(machine)) in weights.detail
    assert "python -m tutorial_style fetch-weights" in weights.fix and "--slim" in weights.fix
    assert str(hub_file(machine)) in weights.fix  # where to copy the file by hand


def test_the_command_says_what_is_missing_and_exits_1(machine):
    """As a teacher runs it, on this offline machine (online it says the download will happen on first use)."""
    env = {k: v for k, v in os.environ.items() if k != "TUTORIAL_STYLE_WEIGHTS"}
    done = subprocess.run([sys.executable, "-m", "tutorial_style", "doctor"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    weights = next(i for i, line in enumerate(lines) if "VGG19 weights" in line)
    assert lines[weights].startswith("✘") and "ImageNet weights" in lines[weights]
    assert "fix:" in lines[weights + 1] and "fetch-weights" in lines[weights + 1]
    for name in ("Python", "torch", "torchvision", "ipywidgets", "jupyterlab", "device", "precomputed caches", "JupyterLab widgets"):
        assert any(name in line for line in lines), f"no {name} line in:\n{done.stdout}"
    assert "\033[" not in done.stdout  # no colour codes when the output is not a terminal
    assert "Traceback" not in done.stderr


def test_cached_imagenet_weights_are_reported_present(machine):
    path = hub_file(machine)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stands in for the 548 MB file")
    weights = by_name(doctor.run_checks(probe_network=False))["VGG19 weights"]
    assert weights.ok and str(path) in weights.detail


def test_a_bad_weights_file_in_the_variable_is_reported(machine, monkeypatch):
    bad = machine / "not-weights.pth"
    bad.write_text("this is not a state dict")
    monkeypatch.setenv("TUTORIAL_STYLE_WEIGHTS", str(bad))
    weights = by_name(doctor.run_checks(probe_network=False))["VGG19 weights"]
    assert not weights.ok
    assert "TUTORIAL_STYLE_WEIGHTS" in weights.detail and str(bad) in weights.detail
    assert "not-weights.pth" in weights.fix  # the loader's own message: which file and what is wrong


def test_a_good_weights_file_in_the_variable_is_reported(machine, monkeypatch, torchvision_state_file):
    monkeypatch.setenv("TUTORIAL_STYLE_WEIGHTS", str(torchvision_state_file))
    weights = by_name(doctor.run_checks(probe_network=False))["VGG19 weights"]
    assert weights.ok and str(torchvision_state_file) in weights.detail


def test_random_weights_chosen_on_purpose_are_flagged(machine, monkeypatch):
    monkeypatch.setenv("TUTORIAL_STYLE_WEIGHTS", "random")
    weights = by_name(doctor.run_checks(probe_network=False))["VGG19 weights"]
    assert not weights.ok and "UNTRAINED" in weights.detail and "unset TUTORIAL_STYLE_WEIGHTS" in weights.fix


def test_precomputed_caches_are_found(machine):
    caches = by_name(doctor.run_checks(probe_network=False))["precomputed caches"]
    assert not caches.ok and not caches.essential and "python -m tutorial_style precompute" in caches.fix
    (machine / "cache" / "tradeoff" / "row.pt").write_bytes(b"a cached row")
    caches = by_name(doctor.run_checks(probe_network=False))["precomputed caches"]
    assert caches.ok and "1 trade-off grid file" in caches.detail


def test_report_marks_each_line_and_gives_fixes_only_for_failures():
    checks = [doctor.Check("alpha", True, "fine", "never shown"), doctor.Check("beta", False, "broken", "do this")]
    text = doctor.report(checks, color=False)
    assert text.splitlines() == [
        f"✔ {'alpha':<22} fine",
        f"✘ {'beta':<22} broken",
        f"  {'':<22} fix: do this",
    ]
    coloured = doctor.report(checks, color=True)
    assert "\033[32m✔" in coloured and "\033[31m✘" in coloured


@pytest.mark.parametrize(
    "checks, code",
    [
        ([doctor.Check("a", True, ""), doctor.Check("b", False, "", essential=False)], 0),  # only advice failed
        ([doctor.Check("a", True, ""), doctor.Check("b", False, "", "fix it")], 1),  # an essential check failed
    ],
)
def test_exit_code_follows_the_essential_checks(checks, code, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "run_checks", lambda: checks)
    assert main(["doctor"]) == code
    assert capsys.readouterr().out == doctor.report(checks, color=False) + "\n"
