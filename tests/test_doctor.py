"""`python -m tutorial_style doctor`: the checklist a teacher runs first, each failure with its fix."""

import os
import subprocess
import sys

import pytest
import torch

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
    done = subprocess.run(
        [sys.executable, "-m", "tutorial_style", "doctor"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    weights = next(i for i, line in enumerate(lines) if "VGG19 weights" in line)
    assert lines[weights].startswith("✘") and "ImageNet weights" in lines[weights]
    assert "fix:" in lines[weights + 1] and "fetch-weights" in lines[weights + 1]
    for name in (
        "Python",
        "torch",
        "torchvision",
        "ipywidgets",
        "jupyterlab",
        "PyTorch build",
        "device",
        "precomputed caches",
        "JupyterLab widgets",
    ):
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


@pytest.fixture
def build(monkeypatch):
    """``build(cuda=..., hip=..., gpu=..., mps=..., driver=...)``: make this machine's PyTorch look like that build."""

    def make(cuda=None, hip=None, gpu=False, mps=False, driver=False):
        monkeypatch.setattr(torch, "__version__", "2.9.0+test")
        monkeypatch.setattr(torch.version, "cuda", cuda)
        monkeypatch.setattr(torch.version, "hip", hip)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU 9000")
        monkeypatch.setattr(torch.backends.mps, "is_built", lambda: mps)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
        monkeypatch.setattr(doctor, "_nvidia_driver", lambda: driver)
        return by_name(doctor.run_checks(probe_network=False))["PyTorch build"]

    return make


def test_a_cuda_build_without_a_gpu_suggests_the_cpu_only_build(machine, build):
    check = build(cuda="12.6")
    assert not check.ok and not check.essential  # advice: the tutorial runs anyway
    assert "CUDA 12.6 build (torch 2.9.0+test)" in check.detail and "no usable GPU" in check.detail
    assert "--index-url https://download.pytorch.org/whl/cpu" in check.fix


def test_a_cuda_build_with_a_gpu_says_it_uses_it(machine, build):
    check = build(cuda="12.6", gpu=True)
    assert check.ok and "CUDA 12.6 build" in check.detail and "using the GPU: Test GPU 9000" in check.detail


def test_a_rocm_build_is_named(machine, build):
    check = build(hip="6.2", gpu=True)
    assert check.ok and "ROCm 6.2 build" in check.detail


def test_the_cpu_only_build_is_fine_without_an_nvidia_gpu(machine, build):
    check = build()
    assert check.ok and "CPU-only build (torch 2.9.0+test)" in check.detail and "no GPU support" in check.detail


def test_the_cpu_only_build_on_a_machine_with_an_nvidia_gpu_says_what_is_lost(machine, build):
    check = build(driver=True)
    assert not check.ok and not check.essential
    assert "CPU-only build" in check.detail and "NVIDIA GPU it cannot use" in check.detail
    assert "pip install --force-reinstall torch torchvision" in check.fix


def test_an_apple_build_says_whether_it_can_use_the_gpu(machine, build):
    assert "using the Apple GPU (MPS)" in build(mps=True).detail


def test_the_device_line_names_the_profile_the_notebooks_take(machine, monkeypatch):
    monkeypatch.delenv("TUTORIAL_STYLE_QUICK", raising=False)
    monkeypatch.setenv("TUTORIAL_STYLE_PROFILE", "paper")
    device = by_name(doctor.run_checks(probe_network=False))["device"]
    assert device.ok and "the paper profile, because TUTORIAL_STYLE_PROFILE=paper is set" in device.detail
    monkeypatch.setenv("TUTORIAL_STYLE_PROFILE", "fastest")
    device = by_name(doctor.run_checks(probe_network=False))["device"]
    assert not device.ok and "'fastest' is not a profile" in device.detail and "TUTORIAL_STYLE_PROFILE" in device.fix


# --- a machine that cannot download (issue 21) ------------------------------------------------------------------------


def test_doctor_offers_random_weights_to_a_machine_that_cannot_download(tmp_path, monkeypatch):
    """Found in issue 21's review (a new user's first hour)."""
    from tutorial_style import doctor

    monkeypatch.delenv("TUTORIAL_STYLE_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = {c.name: c for c in doctor.run_checks(probe_network=False)}["VGG19 weights"]
    assert not weights.ok and "TUTORIAL_STYLE_WEIGHTS=random" in weights.fix and "--weights random" in weights.fix
