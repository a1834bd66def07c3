"""Profiles: how much work the notebooks do, chosen by the machine they run on.

Every notebook's parameters cell takes its image sizes, step counts and grid from one of three profiles:

- ``quick``: tiny images and short runs, so that each notebook runs top to bottom in a minute or two. The
  tests use it (``TUTORIAL_STYLE_QUICK=1``); the pictures are too small to show much.
- ``laptop``: for a CPU. Sizes, steps and notebook 06's grid are chosen so that Run All of each notebook
  takes at most about 10 minutes on a 4-core laptop (20 on a 2-core one), and no cell runs longer than
  about 2 minutes there. Notebook 06's grid uses the fast preset (70 steps from the content image) at 112 px.
- ``paper``: for a GPU (CUDA, or Apple's MPS): the paper's 512 px, 500 steps, and its 5 x 5 grid.

:func:`choose` picks one: the name given, else quick when ``TUTORIAL_STYLE_QUICK`` is set, else
``TUTORIAL_STYLE_PROFILE`` (quick, laptop or paper), else paper on a GPU and laptop on a CPU.
:meth:`Profile.explain` prints which profile, why, how to change it, and how long the notebook's heavy
cells should take on this machine.

``SETTINGS`` is the one table of every notebook's parameters, per profile; its keys are the notebooks'
variable names. :func:`work` lists the optimisations a notebook runs with given settings, and
:meth:`Profile.estimate` turns them into seconds with the package's cost model, ``ts.estimate_cost``:
an estimate from the settings alone, nothing is run. Images are counted as ``SIZE`` x ``SIZE`` (``SIZE``
is the longer side), so the estimate is an upper bound for other shapes.

>>> laptop = choose("laptop", device="cpu")
>>> laptop["03"]["SIZE"], laptop["03"]["STEPS"]
(160, 150)
>>> [(w.cell, w.runs) for w in work("03", laptop["03"]) if not w.on_click]
[('Fig. 1 (bottom): reconstructions from 5 layers', 5)]
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Mapping

import torch

import tutorial_style as ts
from tutorial_style.cost import duration
from tutorial_style.machine import PROFILE_VAR, PROFILES, QUICK_VAR, choose_profile, device_text  # noqa: F401 (QUICK_VAR: named from here too)
from tutorial_style.tradeoff import COLUMNS, layer_sets

__all__ = [
    "PROFILES",
    "SETTINGS",
    "Interrupted",
    "LongWork",
    "Profile",
    "Work",
    "choose",
    "on_interrupt",
    "say_if_interrupted",
    "work",
]


# The laptop profile's budget, on a CPU laptop with LAPTOP_CORES cores: Run All of one notebook, and one cell.
LAPTOP_CORES = 4
LAPTOP_MINUTES = 10
CELL_MINUTES = 2

_FIG1_CONTENT = ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")  # paper Fig. 1, bottom row
_GRID_ROWS = layer_sets()  # the paper's rows: {relu1_1}, {relu1_1, relu2_1}, ... relu1_1 ... relu5_1
_FAST, _PAPER = ts.PRESETS["fast"], ts.PRESETS["paper"]


def _by_profile(quick: dict, laptop: dict, paper: dict, **every) -> dict[str, dict]:
    return {"quick": {**quick, **every}, "laptop": {**laptop, **every}, "paper": {**paper, **every}}


SETTINGS: dict[str, dict[str, dict]] = {
    # 01, 02: images and features only, no optimisation.
    "01": _by_profile(dict(SIZE=64), dict(SIZE=256), dict(SIZE=512)),
    "02": _by_profile(dict(SIZE=64), dict(SIZE=256), dict(SIZE=512)),
    # 03: content reconstructions from white noise, one per layer of FIG1_LAYERS.
    "03": _by_profile(
        dict(SIZE=64, STEPS=20), dict(SIZE=160, STEPS=150), dict(SIZE=512, STEPS=500), FIG1_LAYERS=_FIG1_CONTENT
    ),
    # 04: texture syntheses from white noise on the growing prefixes of FIG1_LAYERS.
    "04": _by_profile(
        dict(SIZE=64, STEPS=20), dict(SIZE=160, STEPS=150), dict(SIZE=512, STEPS=500), FIG1_LAYERS=ts.PAPER_STYLE_LAYERS
    ),
    # 05: the by-hand loop, the live run, four experiments, and the studio (which runs on its button).
    "05": _by_profile(
        dict(SIZE=64, STEPS=20, STUDIO_SIZE=64, STUDIO_PRESET="fast", STUDIO_STEPS=30),
        dict(SIZE=160, STEPS=150, STUDIO_SIZE=256, STUDIO_PRESET="fast", STUDIO_STEPS=None),
        dict(SIZE=512, STEPS=500, STUDIO_SIZE=512, STUDIO_PRESET="paper", STUDIO_STEPS=None),
        BY_HAND_STEPS=10,
    ),
    # 06: the alpha/beta x style-layers grid (tradeoff.default_grid's keywords), and a small batching demo.
    "06": _by_profile(
        dict(
            GRID=dict(
                size=64, steps=20, init="noise", columns=COLUMNS[::2], layer_sets=[_GRID_ROWS[0], _GRID_ROWS[-1]]
            ),
            DEMO_SIZE=64,
        ),
        dict(
            GRID=dict(size=112, steps=_FAST["steps"], init=_FAST["init"], columns=COLUMNS, layer_sets=_GRID_ROWS),
            DEMO_SIZE=128,
        ),
        dict(
            GRID=dict(size=512, steps=_PAPER["steps"], init=_PAPER["init"], columns=COLUMNS, layer_sets=_GRID_ROWS),
            DEMO_SIZE=128,
        ),
        DEMO_STEPS=3,
    ),
    # 07: the 2017 controls; most runs start from the photo with the fast preset's 70 steps, the panels run on buttons.
    "07": _by_profile(
        dict(SIZE=48, STEPS=8), dict(SIZE=160, STEPS=_FAST["steps"]), dict(SIZE=512, STEPS=_PAPER["steps"])
    ),
    # 08: a feed-forward network trained once per style (Johnson et al. 2016). SPEED_*: section 1 times a few
    # evaluations of the optimisation; TRAIN_*: the network's training (MORE_STEPS: the "Train more" button);
    # COMPARE_*: the optimisation from white noise on the held-out photos, against the network (section 4); VIDEO_*: the
    # held-out clip of section 8, TEMPORAL_STEPS: the network trained on with the temporal term there.
    "08": _by_profile(
        dict(
            SPEED_SIZE=64,
            SPEED_EVALUATIONS=2,
            WIDTH=0.25,
            BLOCKS=1,
            TRAIN_SIZE=48,
            BATCH=2,
            TRAIN_STEPS=30,
            MORE_STEPS=20,
            SIZE=48,
            COMPARE_STEPS=10,
            VIDEO_SIZE=48,
            VIDEO_FRAMES=4,
            TEMPORAL_STEPS=10,
        ),
        dict(
            SPEED_SIZE=256,
            SPEED_EVALUATIONS=3,
            WIDTH=0.5,
            BLOCKS=5,
            TRAIN_SIZE=128,
            BATCH=2,
            TRAIN_STEPS=300,
            MORE_STEPS=600,
            SIZE=128,
            COMPARE_STEPS=200,
            VIDEO_SIZE=128,
            VIDEO_FRAMES=12,
            TEMPORAL_STEPS=100,
        ),
        dict(
            SPEED_SIZE=512,
            SPEED_EVALUATIONS=10,
            WIDTH=1.0,
            BLOCKS=5,
            TRAIN_SIZE=256,
            BATCH=4,
            TRAIN_STEPS=2000,
            MORE_STEPS=10000,
            SIZE=512,
            COMPARE_STEPS=_PAPER["steps"],
            VIDEO_SIZE=256,
            VIDEO_FRAMES=48,
            TEMPORAL_STEPS=1000,
        ),
        COMPARE_PHOTOS=2,
    ),
    # 09: one network of several styles (Dumoulin et al. 2017). WIDTH, BLOCKS, TWO_STEPS: the network of two styles
    # trained here when no shipped network is installed; ADD_STEPS: a new style's γ and β trained alone (section 3);
    # TRAIN_SIZE, BATCH: both trainings' crops; SIZE: the held-out photo the sliders style.
    "09": _by_profile(
        dict(WIDTH=0.25, BLOCKS=1, TRAIN_SIZE=48, BATCH=2, TWO_STEPS=20, ADD_STEPS=10, SIZE=64),
        dict(WIDTH=0.5, BLOCKS=5, TRAIN_SIZE=128, BATCH=2, TWO_STEPS=300, ADD_STEPS=200, SIZE=256),
        dict(WIDTH=1.0, BLOCKS=5, TRAIN_SIZE=256, BATCH=4, TWO_STEPS=4000, ADD_STEPS=1000, SIZE=512),
    ),
}


@dataclass(frozen=True)
class Work:
    """The optimisations of one cell: ``runs`` runs of ``steps`` evaluations, each on ``batch`` images of ``size`` px.

    ``on_click``: the cell only builds a panel, and this runs each time the learner presses its button,
    not during Run All.
    """

    cell: str
    size: int
    steps: int
    batch: int = 1
    runs: int = 1
    optimizer: str = "lbfgs"
    on_click: bool = False

    def seconds(self, device) -> float:
        return self.runs * ts.estimate_cost(self.size, self.size, self.batch, self.steps, self.optimizer, device)[0]


def work(notebook: str, s: Mapping) -> list[Work]:
    """The optimisations ``notebook`` runs with settings ``s`` (its parameters cell's values), cell by cell.

    >>> [w.cell for w in work("06", choose("laptop", device="cpu")["06"])]  # doctest: +NORMALIZE_WHITESPACE
    ['1. a row as one batched call (demonstration)', '1. a row as one batched call (demonstration)',
     '2. the grid (rows not yet in the cache)', "5. the layer chooser's first Run", 'the layer chooser, each Run']
    """
    if notebook in ("01", "02"):
        return []
    if notebook == "03":
        return [
            Work(
                f"Fig. 1 (bottom): reconstructions from {len(s['FIG1_LAYERS'])} layers",
                s["SIZE"],
                s["STEPS"],
                runs=len(s["FIG1_LAYERS"]),
            ),
            Work("the reconstruction panel, each Reconstruct", s["SIZE"], s["STEPS"], on_click=True),
        ]
    if notebook == "04":
        return [
            Work(
                f"Fig. 1 (top): textures from {len(s['FIG1_LAYERS'])} layer sets",
                s["SIZE"],
                s["STEPS"],
                runs=len(s["FIG1_LAYERS"]),
            ),
            Work("the texture panel, each Synthesise", s["SIZE"], s["STEPS"], on_click=True),
        ]
    if notebook == "05":
        size, steps = s["SIZE"], s["STEPS"]
        studio_steps = s["STUDIO_STEPS"] or ts.PRESETS[s["STUDIO_PRESET"]]["steps"]
        return [
            Work("3. L-BFGS by hand", size, s["BY_HAND_STEPS"]),
            Work("4. ts.stylize, live", size, steps),
            Work("5.1 four starting images (one batched call)", size, steps, batch=4),
            Work("5.2 content at relu2_2", size, steps),
            Work("5.3 max pooling", size, steps),
            Work("5.4 Adam", size, steps, optimizer="adam"),
            Work("6. the studio, each Run", s["STUDIO_SIZE"], studio_steps, on_click=True),
        ]
    if notebook == "06":
        grid = s["GRID"]
        rows, cols = len(grid["layer_sets"]), len(grid["columns"])
        # The layer chooser shows the paper's choice from the grid when the grid has that cell (the paper's layers at
        # the default alpha/beta, column 1), else runs it too.
        paper_ratio = 1.0 in grid["columns"]
        has_paper_cell = tuple(ts.PAPER_STYLE_LAYERS) in map(tuple, grid["layer_sets"]) and paper_ratio
        demo = "1. a row as one batched call (demonstration)"
        return [
            Work(demo, s["DEMO_SIZE"], s["DEMO_STEPS"], batch=cols),
            Work(demo, s["DEMO_SIZE"], s["DEMO_STEPS"]),  # one column alone, to compare
            Work("2. the grid (rows not yet in the cache)", grid["size"], grid["steps"], batch=cols, runs=rows),
            Work("5. the layer chooser's first Run", grid["size"], grid["steps"], runs=1 if has_paper_cell else 2),
            Work("the layer chooser, each Run", grid["size"], grid["steps"], on_click=True),
        ]
    if notebook == "07":
        size, steps = s["SIZE"], s["STEPS"]
        fine_steps = max(1, steps // 4)  # the pyramid's steps at the full size (section 5)
        return [
            Work("1. total variation: without and with the prior", size, steps, runs=2),
            Work("2. colour: the luminance-only run", size, steps),
            Work("2. the colour panel, each Run (three runs)", size, steps, runs=3, on_click=True),
            Work("3. the region panel, each Run", size, steps, on_click=True),
            Work("3. two regions in code", size, steps),
            Work("4. the blend panel, each Run", size, steps, on_click=True),
            Work("4. three blends", size, steps, runs=3),
            Work(
                "5. the coarse-to-fine panel, each Run (both runs)", size // 2, steps, on_click=True
            ),  # the pyramid ...
            Work("5. the coarse-to-fine panel, each Run (both runs)", size, fine_steps, on_click=True),
            Work(
                "5. the coarse-to-fine panel, each Run (both runs)", size, steps + fine_steps, on_click=True
            ),  # ... and one run at full size
            Work("5. coarse-to-fine", size // 2, steps),
            Work("5. coarse-to-fine", size, fine_steps),
            Work("5. mixing scales: the mixed style, then the photo in it", size, steps, runs=2),
        ]
    if notebook == "08":
        # One training step costs about one evaluation of the optimisation on the batch (VGG19 forward and backward
        # on BATCH images; measured 0.3 s for 2 images of 128 px on 2 cores, as ts.estimate_cost says).
        return [
            Work("1. the optimisation's evaluations, timed", s["SPEED_SIZE"], s["SPEED_EVALUATIONS"]),
            Work("3. training the network", s["TRAIN_SIZE"], s["TRAIN_STEPS"], batch=s["BATCH"], optimizer="adam"),
            Work(
                "3. training, each Train more",
                s["TRAIN_SIZE"],
                s["MORE_STEPS"],
                batch=s["BATCH"],
                optimizer="adam",
                on_click=True,
            ),
            Work("4. the optimisation on the held-out photos", s["SIZE"], s["COMPARE_STEPS"], runs=s["COMPARE_PHOTOS"]),
            Work(
                "8. training on with the temporal term",
                s["TRAIN_SIZE"],
                s["TEMPORAL_STEPS"],
                batch=s["BATCH"],
                optimizer="adam",
            ),
        ]
    if notebook == "09":
        return [
            Work(
                "the network of two styles, trained here (only when none is installed)",
                s["TRAIN_SIZE"],
                s["TWO_STEPS"],
                batch=s["BATCH"],
                optimizer="adam",
            ),
            Work("3. a new style's γ and β", s["TRAIN_SIZE"], s["ADD_STEPS"], batch=s["BATCH"], optimizer="adam"),
        ]
    raise ValueError(f"notebook {notebook!r} is not one of {', '.join(SETTINGS)}")


@dataclass(frozen=True)
class Profile:
    """A chosen profile: its ``name`` (quick, laptop or paper), why it was chosen, and the device it runs on.

    ``profile["03"]`` is a copy of notebook 03's settings, ``{"SIZE": ..., "STEPS": ..., ...}``.
    """

    name: str
    reason: str
    device: torch.device

    def __getitem__(self, notebook: str) -> dict:
        if notebook not in SETTINGS:
            raise KeyError(f"notebook {notebook!r} is not one of {', '.join(SETTINGS)}")
        return copy.deepcopy(SETTINGS[notebook][self.name])

    def estimate(self, notebook: str, **values) -> list[tuple[str, float, bool]]:
        """``(cell, seconds, on_click)`` for each heavy cell of ``notebook``, with its settings changed by ``values``
        (e.g. ``SIZE=256``): what the parameters cell holds after a learner's edits."""
        settings = self[notebook]
        unknown = set(values) - set(settings)
        if unknown:
            raise ValueError(
                f"{', '.join(sorted(unknown))}: not a parameter of notebook {notebook}; "
                f"its parameters are {', '.join(settings)}"
            )
        cells: dict[str, list] = {}
        for w in work(notebook, {**settings, **values}):
            cells.setdefault(w.cell, [0.0, w.on_click])[0] += w.seconds(self.device)
        return [(cell, seconds, on_click) for cell, (seconds, on_click) in cells.items()]

    def run_all_seconds(self, notebook: str, **values) -> float:
        """The estimated optimisation time of Run All (buttons not pressed)."""
        return sum(seconds for _, seconds, on_click in self.estimate(notebook, **values) if not on_click)

    def describe(self, notebook: str, **values) -> str:
        """What the parameters cell prints: the profile, why, how to change it, and the time of the heavy cells."""
        lines = [
            _wrap(f"Profile: {self.name} ({_PURPOSE[self.name]}), because {self.reason}."),
            _wrap(
                f"To change it: set {PROFILE_VAR}=quick, laptop or paper before starting Jupyter, or write "
                'profiles.choose("paper") '
                "in this cell; or edit the values in this cell. Then run the notebook again from the top."
            ),
        ]
        estimate = self.estimate(notebook, **values)
        if not estimate:
            return "\n".join(lines + ["Nothing in this notebook optimises: every cell takes seconds."])
        lines.append(
            f"Estimated time on this machine ({device_text(self.device)}), a rough estimate from the settings:"
        )
        width = max(len(cell) for cell, _, _ in estimate) + 2
        for cell, seconds, on_click in estimate:
            lines.append(f"  {cell:<{width}}{_about(seconds)}{', when you press it' if on_click else ''}")
        lines.append(f"  {'Run All':<{width}}{_about(self.run_all_seconds(notebook, **values))}")
        return "\n".join(lines)

    def cell_limit(self) -> float:
        """Seconds a cell may take here before it asks: :data:`CELL_MINUTES` on a :data:`LAPTOP_CORES`-core laptop,
        scaled to this CPU's threads (the laptop profile is sized to stay under it); :data:`CELL_MINUTES` on a GPU."""
        if self.device.type != "cpu":
            return CELL_MINUTES * 60
        return CELL_MINUTES * 60 * max(1.0, LAPTOP_CORES / torch.get_num_threads())

    def long_cells(self, notebook: str, **values) -> list[tuple[str, float]]:
        """``(cell, seconds)`` of the cells Run All would run that are estimated over :meth:`cell_limit`."""
        limit = self.cell_limit()
        return [(cell, s) for cell, s, on_click in self.estimate(notebook, **values) if not on_click and s > limit]

    def explain(self, notebook: str, *, long_runs: bool = True, **values) -> None:
        """Print :meth:`describe`. With ``long_runs=False`` (the notebook's ``LONG_RUNS`` parameter), then stop with
        one line, before any work, if a cell would take longer than :meth:`cell_limit`: the learner asks for long
        work by setting ``LONG_RUNS = True``."""
        print(self.describe(notebook, **values))
        long = self.long_cells(notebook, **values)
        if long and not long_runs:
            cells = "; ".join(f"{cell}: {_about(seconds)}" for cell, seconds in long)
            raise LongWork(
                f"Stopped before the long work ({cells}, more than about {_about(self.cell_limit())} here). "
                "To run it anyway, set LONG_RUNS = True in this cell; or make SIZE or STEPS smaller. Then run the "
                "notebook again."
            )


class LongWork(Exception):
    """Raised by :meth:`Profile.explain` before work the learner has not asked for; Jupyter shows its one line."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


class Interrupted(KeyboardInterrupt):
    """The learner's interrupt (■, or I, I), said in one line: what was kept. Still a ``KeyboardInterrupt``, so Run
    All stops there as it does for any interrupt; Jupyter shows the line instead of a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"Interrupted: {self}"]


@contextlib.contextmanager
def on_interrupt(kept: str):
    """Turn an interrupt inside the ``with`` block into :class:`Interrupted` with the line ``kept`` (what was kept
    and how to go on), for cells whose work is not a ``stylize`` run (which keeps its best image by itself)."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(kept) from None


def say_if_interrupted(*results) -> bool:
    """Print one line if any of ``results`` (of ``ts.stylize``) was interrupted (the ■ button, or I, I): each kept
    its best image so far. Returns True if one was, so that a check can say so instead of printing False."""
    stopped = [r for r in results if r.interrupted]
    if stopped:
        steps = " and ".join(str(len(r.history)) for r in stopped)
        print(
            f"interrupted after {steps} evaluations: kept the best image so far; run the cell again for the whole run."
        )
    return bool(stopped)


_PURPOSE = {
    "quick": "tiny images and short runs, for tests",
    "laptop": f"sizes and steps for a CPU: Run All in about {LAPTOP_MINUTES} minutes on a {LAPTOP_CORES}-core laptop",
    "paper": "the paper's 512 px and 500 steps, for a GPU",
}


def choose(name: str | None = None, *, device: str | torch.device | None = None) -> Profile:
    """The profile for this machine: ``name`` if given, else quick when ``$TUTORIAL_STYLE_QUICK`` is set, else
    ``$TUTORIAL_STYLE_PROFILE``, else paper on a GPU and laptop on a CPU (``tutorial_style.machine``, where the
    choice is made). ``device``: where the notebook runs (default ``ts.default_device()``, the fastest here).

    >>> choose("quick", device="cpu").reason
    'it was chosen in this notebook: profiles.choose("quick")'
    """
    return Profile(*choose_profile(name, device=device))


def _wrap(text: str) -> str:
    """A long line wrapped between words (Jupyter's text outputs break long lines anywhere, even inside a word)."""
    import textwrap

    return textwrap.fill(text, 100, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)


def _about(seconds: float) -> str:
    """An estimate as a learner reads it: 'a few seconds', 'about 40 s', 'about 7 minutes', 'about 2.5 hours'."""
    return "a few seconds" if seconds < 10 else f"about {duration(seconds)}"
