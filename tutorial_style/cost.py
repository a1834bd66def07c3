"""How long a run will take and how much memory it needs, before it starts: the numbers behind the warnings.

Both grow linearly with the pixels (as the paper notes) and with the batch; the time also with the steps. The
constants are per pixel of each image and per evaluation, measured on the machines named next to them. They are
orders of magnitude, for a warning or an estimate shown before long work, not promises.
"""

from __future__ import annotations

import warnings

import torch

from .files import caller_stacklevel

__all__ = ["estimate_cost", "SizeWarning", "warn_if_costly", "duration", "available_memory"]

# Rough cost of one loss-and-gradient evaluation per pixel of each image, with the paper's layers (VGG19 up to
# relu5_1: about 1.5 MFLOP per pixel forward and backward, weights frozen). CPU: measured on a 2-core x86
# machine at 64, 128 and 256 px (10-13 us per pixel with 2 threads: 0.05, 0.16 and 0.67 s), scaled by the threads
# torch uses. GPUs: not measured here; a guess for a recent card. The warning is an order of magnitude, no more.
CORE_SECONDS_PER_PIXEL = {"cpu": 20e-6, "cuda": 0.15e-6, "mps": 1.5e-6}
ACTIVATION_BYTES_PER_PIXEL = 4000  # feature maps kept for the backward pass (measured: 3.7-4.3 kB)
LBFGS_BYTES_PER_PAIR_PIXEL = 24  # one history pair (s, y): 2 x 3 float32 per pixel
LBFGS_HISTORY = 100  # pairs kept at most (lbfgs.BatchedLBFGS's history_size)
WARN_SECONDS = 30 * 60
WARN_MEMORY_FRACTION = 0.5


class SizeWarning(UserWarning):
    """A run that will take very long or may not fit in memory; the message gives the estimates."""


def estimate_cost(height: int, width: int, batch: int = 1, steps: int = 500, optimizer: str = "lbfgs", device="cpu"):
    """Rough ``(seconds, bytes)`` that a run needs: the time of ``steps`` evaluations, and the feature maps and
    L-BFGS history (at most one pair per step) it keeps.

    >>> seconds, memory = estimate_cost(256, 256, steps=300)
    >>> 1 < seconds / 60 < 30, 0.1 < memory / 1e9 < 1   # minutes, GB
    (True, True)
    """
    device = torch.device(device)
    pixels = height * width * batch
    threads = torch.get_num_threads() if device.type == "cpu" else 1
    seconds = CORE_SECONDS_PER_PIXEL.get(device.type, CORE_SECONDS_PER_PIXEL["cpu"]) * pixels * steps / threads
    # the pairs the run can fill, and L-BFGS's own copies of the last image and gradient (one pair's worth)
    pairs = min(LBFGS_HISTORY, max(steps - 1, 0)) + 1 if optimizer == "lbfgs" else 0
    memory = pixels * (ACTIVATION_BYTES_PER_PIXEL + LBFGS_BYTES_PER_PAIR_PIXEL * pairs)
    return seconds, memory


def warn_if_costly(height, width, batch, steps, optimizer, device) -> None:
    """Warn (:class:`SizeWarning`) when a run will take over 30 minutes or may need over half the free memory."""
    seconds, memory = estimate_cost(height, width, batch, steps, optimizer, device)
    free = available_memory(device)
    if seconds <= WARN_SECONDS and (free is None or memory <= WARN_MEMORY_FRACTION * free):
        return
    where = f"{_bytes(free)} available on {device}" if free is not None else f"on {device}"
    warnings.warn(
        SizeWarning(
            f"{'' if batch == 1 else f'{batch} images of '}{width}x{height} px for {steps} steps with {optimizer} "
            f"will take about {duration(seconds)} "
            f"and need about {_bytes(memory)} ({where}). Use a smaller size or fewer steps "
            "(TUTORIAL_STYLE_QUICK=1 picks small ones in the notebooks)."
        ),
        stacklevel=caller_stacklevel(),
    )


def available_memory(device: torch.device) -> int | None:
    """Free bytes on ``device`` (GPU memory for CUDA, else the machine's available RAM), or None if unknown."""
    try:
        if device.type == "cuda":
            return torch.cuda.mem_get_info(device)[0]
        import psutil  # optional

        return psutil.virtual_memory().available
    except ImportError:
        pass
    except Exception:  # a driver that cannot answer: no memory estimate, no warning
        return None
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None


def _bytes(n: float) -> str:
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.1f} GB"


def duration(seconds: float) -> str:
    """A time as a reader says it: milliseconds under a second, then seconds, minutes, hours and days.

    >>> [duration(s) for s in (0.0042, 0.25, 42, 600, 7200, 3e5)]
    ['4.2 ms', '250 ms', '42 s', '10 minutes', '2.0 hours', '3 days']
    """
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.0f} days"
