"""Profiles (tutorial_style.notebook.profiles): each notebook's settings chosen by the machine, and the laptop budget.

The budget is checked on estimates from the settings (``ts.estimate_cost``, the package's cost model); nothing
is run. The settings come from executing each notebook's own parameters cell, as a learner's kernel does on a
CPU with no environment variables set, so a notebook that ignores its profile fails here too.
"""

import functools
import re
import time
from pathlib import Path

import nbformat
import pytest
import torch

from tutorial_style import tradeoff
from tutorial_style.notebook import profiles

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KEYS = sorted(profiles.SETTINGS)


@pytest.fixture
def threads():
    """``threads(n)`` sets the CPU threads torch uses (which the cost model divides by); restored afterwards."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.fixture
def learner(monkeypatch):
    """A learner's machine: neither TUTORIAL_STYLE_QUICK nor TUTORIAL_STYLE_PROFILE set (the tests set QUICK)."""
    monkeypatch.delenv(profiles.QUICK_VAR, raising=False)
    monkeypatch.delenv(profiles.PROFILE_VAR, raising=False)


def run_parameters_cell(key: str, monkeypatch) -> dict:
    """Execute notebook KEY's first code cell (its parameters) on a CPU; return the variables it defines."""
    (path,) = NOTEBOOKS.glob(f"{key}_*.ipynb")
    source = next(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    monkeypatch.setattr(profiles, "choose", functools.partial(profiles.choose, device="cpu"))
    namespace = {}
    exec(compile(source, f"{path.name}, parameters cell", "exec"), namespace)
    return namespace


def laptop_values(key: str, namespace: dict) -> dict:
    """The notebook's values of every parameter the table holds for it (the table's keys are its variable names)."""
    return {name: namespace[name] for name in profiles.SETTINGS[key]["laptop"]}


@pytest.mark.parametrize("key", [p.name[:2] for p in sorted(NOTEBOOKS.glob("*.ipynb"))])
def test_every_notebook_has_a_table_entry(key):
    assert key in profiles.SETTINGS


def test_every_table_entry_is_a_notebook_with_the_same_parameters_in_every_profile():
    assert set(KEYS) <= {p.name[:2] for p in NOTEBOOKS.glob("*.ipynb")}
    for key in KEYS:
        assert set(profiles.SETTINGS[key]) == set(profiles.PROFILES)
        names = [set(s) for s in profiles.SETTINGS[key].values()]
        assert all(n == names[0] for n in names), f"notebook {key}: every profile must set the same parameters"


@pytest.mark.parametrize("key", KEYS)
def test_the_parameters_cell_takes_the_laptop_profile_on_a_cpu_and_says_so(key, learner, monkeypatch, capsys):
    namespace = run_parameters_cell(key, monkeypatch)
    shown = capsys.readouterr().out
    assert all(len(line) <= 100 for line in shown.splitlines()), shown  # wrapped between words, not by the browser
    printed = " ".join(shown.split())
    profile = namespace["PROFILE"]
    assert profile.name == "laptop" and profile.device.type == "cpu"
    assert laptop_values(key, namespace) == profiles.SETTINGS[key]["laptop"]
    assert printed.startswith("Profile: laptop")
    assert "no GPU" in printed  # why
    assert (
        "TUTORIAL_STYLE_PROFILE=quick, laptop or paper" in printed and 'profiles.choose("paper")' in printed
    )  # how to change it
    if profiles.work(key, profiles.SETTINGS[key]["laptop"]):
        assert f"CPU, {torch.get_num_threads()} threads" in printed and "Run All" in printed  # the estimate
    else:
        assert "Nothing in this notebook optimises" in printed


@pytest.mark.parametrize("cores, minutes", [(4, profiles.LAPTOP_MINUTES), (2, 2 * profiles.LAPTOP_MINUTES)])
@pytest.mark.parametrize("key", KEYS)
def test_run_all_fits_the_laptop_budget(key, cores, minutes, learner, threads, monkeypatch):
    """Run All of each notebook within 10 minutes on a 4-core laptop (20 on 2 cores), and no cell over 2 minutes
    on 4 cores (4 on 2), as estimated from the settings its parameters cell makes on a CPU."""
    threads(cores)
    namespace = run_parameters_cell(key, monkeypatch)
    values = laptop_values(key, namespace)
    profile = namespace["PROFILE"]
    assert profile.run_all_seconds(key, **values) <= minutes * 60
    cell_limit = profiles.CELL_MINUTES * 60 * profiles.LAPTOP_CORES / cores
    for cell, seconds, on_click in profile.estimate(key, **values):
        assert seconds <= cell_limit, f"notebook {key}, {cell}: about {seconds / 60:.1f} minutes on {cores} cores"


@pytest.mark.parametrize("key", ["03", "04", "05", "06", "07", "08"])
def test_the_papers_settings_on_a_cpu_are_far_over_the_laptop_budget(key, threads):
    """The budget test above can fail: the paper's sizes on a 4-core CPU would take far longer than 10 minutes."""
    threads(profiles.LAPTOP_CORES)
    paper_on_a_cpu = profiles.choose("paper", device="cpu")
    assert paper_on_a_cpu.run_all_seconds(key) > 5 * profiles.LAPTOP_MINUTES * 60


def test_the_papers_grid_on_a_cpu_is_estimated_at_hours(threads):
    threads(2)
    estimate = dict((cell, s) for cell, s, _ in profiles.choose("paper", device="cpu").estimate("06"))
    assert estimate["2. the grid (rows not yet in the cache)"] > 3 * 3600


@pytest.mark.parametrize("key", KEYS)
def test_the_quick_profile_is_tiny(key, threads):
    threads(2)
    settings = profiles.SETTINGS[key]["quick"]
    for work in profiles.work(key, settings):
        assert work.size <= 64 and work.steps <= 30, work
    assert profiles.choose("quick", device="cpu").run_all_seconds(key) < 30


def test_the_paper_profile_is_the_papers_512_px_and_500_steps():
    paper = profiles.choose("paper", device="cpu")
    for key in ("03", "04", "05", "07"):
        assert (paper[key]["SIZE"], paper[key]["STEPS"]) == (512, 500)
    assert (paper["05"]["STUDIO_SIZE"], paper["05"]["STUDIO_PRESET"]) == (512, "paper")
    assert paper["06"]["GRID"] == {**tradeoff.grid_settings(quick=False), "init": "noise"}
    assert (len(paper["06"]["GRID"]["layer_sets"]), len(paper["06"]["GRID"]["columns"])) == (5, 5)


def test_notebook_08_trains_johnsons_network_on_a_gpu_and_the_slimmer_default_on_a_laptop():
    from tutorial_style.realtime.network import DEFAULT, JOHNSON

    settings = profiles.SETTINGS["08"]
    net = {name: {"width": s["WIDTH"], "blocks": s["BLOCKS"]} for name, s in settings.items()}
    assert net["paper"] == JOHNSON and net["laptop"] == DEFAULT
    assert settings["paper"]["COMPARE_STEPS"] == 500  # the paper's optimisation, as in Johnson et al.'s comparison
    # the training is counted in Run All; the "Train more" button only when pressed
    cells = {w.cell: w.on_click for w in profiles.work("08", settings["laptop"])}
    assert cells == {
        "1. the optimisation's evaluations, timed": False,
        "3. training the network": False,
        "3. training, each Train more": True,
        "4. the optimisation on the held-out photos": False,
        "8. training on with the temporal term": False,
    }


def test_the_quick_and_paper_grids_are_the_ones_precompute_makes():
    """Until precompute takes a profile, the grids it builds (tradeoff.grid_settings) must be these, or the
    notebook and `python -m tutorial_style precompute` would ask for different cache entries."""
    assert profiles.SETTINGS["06"]["quick"]["GRID"] == {**tradeoff.grid_settings(quick=True), "init": "noise"}
    assert profiles.SETTINGS["06"]["paper"]["GRID"] == {**tradeoff.grid_settings(quick=False), "init": "noise"}


def test_the_laptop_grid_is_the_fast_preset_on_every_row_and_column():
    grid = profiles.SETTINGS["06"]["laptop"]["GRID"]
    assert (grid["init"], grid["steps"]) == ("content", 70)
    assert grid["columns"] == tradeoff.COLUMNS and grid["layer_sets"] == tradeoff.layer_sets()
    assert grid["size"] < 512


@pytest.mark.parametrize(
    "quick, chosen, device, name, why",
    [
        ("1", "", "cpu", "quick", "TUTORIAL_STYLE_QUICK=1 is set"),
        ("1", "paper", "cuda", "quick", "it wins over TUTORIAL_STYLE_PROFILE=paper"),
        ("0", "", "cpu", "laptop", "no GPU"),
        ("", "", "cuda", "paper", "has a GPU"),
        ("", "", "mps", "paper", "Apple GPU"),
        ("", "paper", "cpu", "paper", "TUTORIAL_STYLE_PROFILE=paper is set"),
        ("", "laptop", "cuda", "laptop", "TUTORIAL_STYLE_PROFILE=laptop is set"),
    ],
)
def test_choose_follows_the_variables_then_the_device(quick, chosen, device, name, why, monkeypatch):
    monkeypatch.setenv(profiles.QUICK_VAR, quick)
    monkeypatch.setenv(profiles.PROFILE_VAR, chosen)
    profile = profiles.choose(device=device)
    assert (profile.name, profile.device.type) == (name, device)
    assert why in profile.reason


def test_a_name_given_in_the_notebook_wins(monkeypatch):
    monkeypatch.setenv(profiles.QUICK_VAR, "1")
    profile = profiles.choose("laptop", device="cpu")
    assert profile.name == "laptop" and 'profiles.choose("laptop")' in profile.reason


@pytest.mark.parametrize("given, where", [(None, "TUTORIAL_STYLE_PROFILE"), ("fast", "profiles.choose()")])
def test_an_unknown_profile_is_one_line_naming_where_it_came_from(given, where, learner, monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_VAR, "fast")
    with pytest.raises(ValueError, match=rf"^{re.escape(where)}: 'fast' is not a profile; use quick, laptop or paper$"):
        profiles.choose(given, device="cpu")


def test_the_estimate_follows_the_values_the_cell_holds(threads):
    threads(2)
    laptop = profiles.choose("laptop", device="cpu")
    base = laptop.run_all_seconds("03")
    assert laptop.run_all_seconds("03", STEPS=2 * laptop["03"]["STEPS"]) == pytest.approx(2 * base)
    assert laptop.run_all_seconds("03", SIZE=2 * laptop["03"]["SIZE"]) == pytest.approx(4 * base)
    assert laptop.run_all_seconds("03", FIG1_LAYERS=("relu4_2",)) == pytest.approx(base / 5)
    with pytest.raises(ValueError, match="SIZES: not a parameter of notebook 03; its parameters are SIZE, STEPS"):
        laptop.estimate("03", SIZES=128)


def test_buttons_are_estimated_but_not_counted_in_run_all(threads):
    threads(2)
    laptop = profiles.choose("laptop", device="cpu")
    estimate = laptop.estimate("05")
    studio = [s for cell, s, on_click in estimate if on_click]
    assert len(studio) == 1 and studio[0] > 0
    assert laptop.run_all_seconds("05") == pytest.approx(sum(s for _, s, on_click in estimate if not on_click))
    assert "6. the studio, each Run" in laptop.describe("05") and "when you press it" in laptop.describe("05")


def test_the_layer_chooser_runs_the_papers_choice_too_when_the_grid_lacks_it():
    laptop = profiles.SETTINGS["06"]["laptop"]
    without_paper_row = {**laptop, "GRID": {**laptop["GRID"], "layer_sets": tradeoff.layer_sets()[:2]}}
    first_run = {w.cell: w.runs for w in profiles.work("06", laptop)}["5. the layer chooser's first Run"]
    assert first_run == 1
    assert {w.cell: w.runs for w in profiles.work("06", without_paper_row)}["5. the layer chooser's first Run"] == 2


def test_a_notebook_gets_its_own_copy_of_the_settings():
    laptop = profiles.choose("laptop", device="cpu")
    laptop["06"]["GRID"]["layer_sets"].clear()
    assert len(laptop["06"]["GRID"]["layer_sets"]) == 5
    with pytest.raises(KeyError, match="'99' is not one of 01, 02"):
        laptop["99"]


# --- Asking before long work (notebook 07's LONG_RUNS) ----------------------------------------------------------


def test_long_work_stops_before_it_starts_with_one_line_saying_how_long_and_how_to_ask(threads, capsys):
    threads(2)
    paper_on_a_cpu = profiles.choose("paper", device="cpu")
    with pytest.raises(profiles.LongWork) as stopped:
        paper_on_a_cpu.explain("07", long_runs=False)
    printed = capsys.readouterr().out
    assert "Run All" in printed and "about 3.5 hours" in printed  # the estimate came first
    message = str(stopped.value)
    assert "\n" not in message and "set LONG_RUNS = True" in message
    assert "4. three blends: about 66 minutes" in message and "about 4 minutes here" in message  # 2 min x 4 cores / 2
    assert "panel" not in message  # buttons run only when pressed: they never stop Run All
    assert stopped.value._render_traceback_() == [f"LongWork: {message}"]  # what Jupyter shows: one line


def test_a_learner_who_asks_gets_the_long_work(threads, capsys):
    threads(2)
    paper_on_a_cpu = profiles.choose("paper", device="cpu")
    paper_on_a_cpu.explain("07", long_runs=True)  # no exception: the learner set LONG_RUNS = True
    assert "about 3.5 hours" in capsys.readouterr().out


def test_larger_values_edited_into_the_laptop_cell_are_stopped_too(threads):
    threads(2)
    laptop = profiles.choose("laptop", device="cpu")
    assert laptop.long_cells("07") == []  # the laptop profile never asks
    long = dict(laptop.long_cells("07", SIZE=512))
    assert set(long) == {
        "1. total variation: without and with the prior",
        "4. three blends",
        "5. mixing scales: the mixed style, then the photo in it",
    }
    with pytest.raises(profiles.LongWork):
        laptop.explain("07", SIZE=512, STEPS=70, long_runs=False)


def test_the_limit_is_the_laptop_cell_budget_scaled_to_this_cpu(threads):
    threads(2)
    assert profiles.choose("laptop", device="cpu").cell_limit() == 2 * profiles.CELL_MINUTES * 60
    threads(8)
    assert profiles.choose("laptop", device="cpu").cell_limit() == profiles.CELL_MINUTES * 60
    assert profiles.choose("paper", device="cuda").cell_limit() == profiles.CELL_MINUTES * 60


# --- Interrupts: one line that says what was kept ----------------------------------------------------------------


def test_an_interrupted_run_is_said_in_one_line_and_a_finished_one_says_nothing(capsys):
    from types import SimpleNamespace

    done = SimpleNamespace(interrupted=False, history=[{}] * 8)
    stopped = SimpleNamespace(interrupted=True, history=[{}] * 3)
    assert profiles.say_if_interrupted(done, done) is False and capsys.readouterr().out == ""
    assert profiles.say_if_interrupted(done, stopped) is True
    printed = capsys.readouterr().out
    assert (
        printed
        == "interrupted after 3 evaluations: kept the best image so far; run the cell again for the whole run.\n"
    )


def shown_by_ipython(code: str, namespace: dict, capsys) -> str:
    """What Jupyter's kernel shows when ``code`` runs in a cell (IPython's own shell, its traceback rendering)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(namespace)
    capsys.readouterr()
    result = shell.run_cell(code)
    assert not result.success  # the cell ends in error, so Run All stops there
    return capsys.readouterr().out


def test_an_interrupt_in_a_long_cell_is_one_line_in_jupyter_not_a_traceback(capsys):
    def grid_interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # tradeoff_grid re-raises it after caching the finished rows

    (path,) = NOTEBOOKS.glob("06_*.ipynb")
    cells = nbformat.read(path, as_version=4).cells
    cell = next(c.source for c in cells if c.cell_type == "code" and "tradeoff.default_grid(CONTENT" in c.source)
    namespace = dict(
        time=time,
        profiles=profiles,
        tradeoff=type("T", (), {"default_grid": staticmethod(grid_interrupted)}),
        CONTENT="astronaut",
        STYLE="mosaic",
        vgg=None,
        GRID={},
    )
    shown = shown_by_ipython(cell, namespace, capsys)
    assert shown.strip() == (
        "Interrupted: the rows finished so far are in the cache; run this cell again to continue from there"
    )
    assert "Traceback" not in shown


def test_on_interrupt_keeps_other_errors_and_is_still_an_interrupt():
    with pytest.raises(profiles.Interrupted, match="^kept: x$") as caught:
        with profiles.on_interrupt("kept: x"):
            raise KeyboardInterrupt
    assert isinstance(caught.value, KeyboardInterrupt)
    with pytest.raises(ValueError, match="not an interrupt"):
        with profiles.on_interrupt("kept: x"):
            raise ValueError("not an interrupt")


def test_long_work_is_one_line_in_jupyter(threads, capsys):
    threads(2)
    shown = shown_by_ipython(
        'PROFILE.explain("07", long_runs=False)', {"PROFILE": profiles.choose("paper", device="cpu")}, capsys
    )
    last = shown.strip().splitlines()[-1]
    assert last.startswith("LongWork: Stopped before the long work (") and "Traceback" not in shown
