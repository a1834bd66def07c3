"""Temporal consistency: a loss term that asks a network's output to move as its input moves, against flicker.

A feed-forward style network (``realtime/``) styles each video frame on its own, and answers a shift of a pixel,
a little noise or compression with different texture: the video flickers. Huang et al. (2017) and ReCoNet (Gao et
al. 2018) add a temporal term to the training loss, computed on consecutive frames with optical flow; here the
second frame is made from the photo itself, by a small **known** motion (a shift, a turn, a zoom) and fresh
noise, so no flow and no video is needed. For a batch of photos x with outputs f(x), and moved views
x' = T(x) + n with outputs f(x'), two forms:

    "warp"        L_temporal = mean_p M(p) | T(f(x))(p) - f(x')(p) |^2        the output of the moved view must be
                                                                                the moved output (flow-free warp)
    "difference"  L_temporal = mean_p | (f(x') - f(x))(p) - (x' - x)(p) |^2     the outputs must differ as the inputs
                                                                                do (Xu et al. 2021's frame difference)

with |.|^2 summed over the RGB channels of [0, 1] images and the mean taken over pixels (M: those that T keeps
inside the frame), as in the warping error it is meant to lower (``video/flicker.py``). A mean, not a sum, so
its weight means the same at every image size, as the style loss (normalised by M_l^2) does. ``train
--temporal-weight W`` adds ``W * L_temporal`` to the training loss (``realtime/train.py``); the optimisation of a
single image has no second frame and no such term.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["TEMPORAL_FORMS", "Motion", "temporal_loss", "TemporalTerm"]

TEMPORAL_FORMS = ("warp", "difference")


@dataclass(frozen=True)
class Motion:
    """A known motion per image of a batch: ``shift`` (B, 2) pixels (x, y), ``turn`` (B,) degrees and ``zoom`` (B,)
    factors about the centre. ``motion(images)`` returns the moved images and the mask (B, 1, H, W) of pixels whose
    source lay inside the frame (1) or outside it (0; there the moved image reflects the border).

    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> moved, mask = Motion.shifted(1, (1, 0))(x)   # one pixel to the right
    >>> moved[0, 0, 0].tolist(), mask[0, 0, 0].tolist()
    ([0.0, 0.0, 1.0, 2.0], [0.0, 1.0, 1.0, 1.0])
    """

    shift: torch.Tensor
    turn: torch.Tensor
    zoom: torch.Tensor

    @classmethod
    def shifted(cls, batch: int, shift: tuple[float, float]) -> Motion:
        """The same shift (x, y) in pixels for every image of a batch, no turn, no zoom."""
        return cls(torch.tensor([shift], dtype=torch.float32).expand(batch, 2), torch.zeros(batch), torch.ones(batch))

    @classmethod
    def random(
        cls,
        batch: int,
        *,
        shift: float = 3.0,
        turn: float = 1.0,
        zoom: float = 0.02,
        generator: torch.Generator | None = None,
    ) -> Motion:
        """A random motion per image: shifts uniform in [-shift, shift] px, turns in [-turn, turn] degrees, zooms
        in [1 - zoom, 1 + zoom]: what a hand-held camera does between two frames."""
        u = torch.rand(batch, 4, generator=generator) * 2 - 1
        return cls(u[:, :2] * shift, u[:, 2] * turn, 1 + u[:, 3] * zoom)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = images.shape
        if len(self.shift) != b:
            raise ValueError(f"Motion: {len(self.shift)} motions for a batch of {b} images")
        # For output pixel p, the source point: p turned and scaled about the centre, minus the shift, in
        # normalised coordinates ([-1, 1] over the frame, align_corners=False), with square pixels.
        angle = torch.deg2rad(self.turn.float()) * -1
        cos, sin = torch.cos(angle) / self.zoom, torch.sin(angle) / self.zoom
        theta = torch.stack(
            [
                torch.stack([cos, -sin * h / w, -2 * self.shift[:, 0] / w], 1),
                torch.stack([sin * w / h, cos, -2 * self.shift[:, 1] / h], 1),
            ],
            1,
        ).to(images.device, torch.float32)
        grid = F.affine_grid(theta, (b, 1, h, w), align_corners=False)
        moved = F.grid_sample(
            images, grid.to(images.dtype), mode="bilinear", padding_mode="reflection", align_corners=False
        )
        inside = (grid.abs() <= 1 + 1e-6).all(-1, keepdim=True).permute(0, 3, 1, 2)
        return moved, inside.to(images.dtype)


def temporal_loss(
    output: torch.Tensor,
    moved_output: torch.Tensor,
    motion: Motion,
    *,
    form: str = "warp",
    photos: torch.Tensor | None = None,
    moved_photos: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_temporal per image (B,) of outputs f(x) and f(x') for inputs x and x' = ``motion``(x) + noise.

    ``form="warp"``: the masked mean of |motion(f(x)) - f(x')|^2; ``"difference"``: the mean of
    |(f(x') - f(x)) - (x' - x)|^2, which needs ``photos`` x and ``moved_photos`` x'.

    >>> x = torch.rand(2, 3, 8, 8); motion = Motion.shifted(2, (1, 0))
    >>> float(temporal_loss(x, motion(x)[0], motion).max())  # an output that moves with its input
    0.0
    """
    if form not in TEMPORAL_FORMS:
        raise ValueError(f"the temporal term's form must be one of {', '.join(TEMPORAL_FORMS)}, got {form!r}")
    if form == "warp":
        moved, mask = motion(output)
        squared = (moved.float() - moved_output.float()).pow(2).sum(1, keepdim=True) * mask
        return squared.flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1)
    if photos is None or moved_photos is None:
        raise ValueError("the difference form of the temporal term needs the photos and their moved views")
    change = (moved_output.float() - output.float()) - (moved_photos.float() - photos.float())
    return change.pow(2).sum(1).flatten(1).mean(1)


class TemporalTerm:
    """The objective's temporal term: ``L_temporal`` of the image it is called on, f(x), against the output of the
    moved view, f(x'), which this term holds (with its gradient: both views train the network). It needs no
    features. The training makes one per batch and adds it to the paper's objective itself
    (``objective.with_term("temporal", TemporalTerm(...), weight=w)``, ``realtime/train.py``).

    >>> x = torch.rand(2, 3, 8, 8); motion = Motion.shifted(2, (1, 0))
    >>> float(TemporalTerm(motion(x)[0], motion)({}, x).max())
    0.0
    """

    layers: tuple[str, ...] = ()

    def __init__(
        self,
        moved_output: torch.Tensor,
        motion: Motion,
        *,
        form: str = "warp",
        photos: torch.Tensor | None = None,
        moved_photos: torch.Tensor | None = None,
    ):
        if form not in TEMPORAL_FORMS:
            raise ValueError(f"the temporal term's form must be one of {', '.join(TEMPORAL_FORMS)}, got {form!r}")
        self.moved_output, self.motion, self.form = moved_output, motion, form
        self.photos, self.moved_photos = photos, moved_photos

    def __call__(self, features, image: torch.Tensor) -> torch.Tensor:
        views = {"photos": self.photos, "moved_photos": self.moved_photos}
        return temporal_loss(image, self.moved_output, self.motion, form=self.form, **views)
