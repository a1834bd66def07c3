"""The paper's total loss, composed once: targets computed once, and every caller asks the same object.

    L_total(x) = alpha L_content(p, x) + beta L_style(a, x)                          (paper eq. 7)

An :class:`Objective` holds *terms*, each with its weight (one number, or one per image of a batch):

- ``"content"``, a :class:`ContentTerm`: L_content (eq. 1) on the content layers, against the photo's features P;
- ``"style"``, a :class:`StyleTerm`: L_style = sum_l w_l E_l (eqs. 4, 5), against the artwork's Gram matrices A.

Called on images (B, 3, H, W), it runs the network once for all the layers its terms need and returns every term
*unweighted*, per image, and the weighted ``"total"``. The optimisation (``optimize.py``), the trade-off grid's
per-layer breakdown (``tradeoff.py``), the notebooks' widgets and exercise checks all ask it, so what "the loss"
means is written here once. The controls of ``controls/`` are parts of it: a total-variation term ``"tv"``,
several artworks as a :class:`StyleTerm` with blended targets sum_k w_k A_k, and regions as a
:class:`~tutorial_style.controls.masks.GuidedStyleTerm` in place of the style term. A term is anything with
``layers`` (the features it needs) and ``term(features, image) -> (B,)``; whoever needs one the paper does not have
adds it with :meth:`Objective.with_term` (as pystiche's ``PerceptualLoss`` takes a regularisation): a real-time
network's training adds its temporal term against flicker so, batch by batch.
"""

from __future__ import annotations

from typing import Mapping, Protocol, Sequence

import torch

from .controls.blend import blend_grams
from .controls.masks import guided_style_term, resize_mask
from .controls.tv import TVTerm
from .gram import gram_matrix
from .images import resize_to
from .losses import content_loss, style_layer_loss, style_loss
from .vgg import VGG19Features

__all__ = ["Objective", "ContentTerm", "StyleTerm", "Term"]

Features = Mapping[str, torch.Tensor]


class Term(Protocol):
    """One part of an objective: the features it needs, and its value per image."""

    layers: tuple[str, ...]

    def __call__(self, features: Features, image: torch.Tensor) -> torch.Tensor: ...


class ContentTerm:
    """L_content (eq. 1), summed over the content layers, against fixed targets ``{layer: P (1 or B, N, H, W)}``.

    >>> term = ContentTerm({"relu1_1": torch.zeros(1, 2, 2, 2)})
    >>> term({"relu1_1": torch.ones(3, 2, 2, 2)}, image=torch.zeros(3, 3, 2, 2))  # 8 entries of (1 - 0)^2 / 2
    tensor([4., 4., 4.])
    """

    def __init__(self, targets: Features):
        self.targets = dict(targets)
        self.layers = tuple(self.targets)

    def __call__(self, features: Features, image: torch.Tensor) -> torch.Tensor:
        zero = image.new_zeros(image.shape[0], dtype=torch.float32)
        return sum((content_loss(features[n], p) for n, p in self.targets.items()), zero)


class StyleTerm:
    """L_style = sum_l w_l E_l (eqs. 4, 5) against fixed target Gram matrices ``{layer: A (1 or B, N, N)}``.

    ``weights``: the w_l by layer; None gives the paper's w_l = 1 / (number of layers).

    >>> term = StyleTerm({"relu1_1": torch.zeros(1, 1, 1)})
    >>> term({"relu1_1": torch.ones(1, 1, 1, 2)}, image=torch.zeros(1, 3, 1, 2))  # G = [[2]]: (2 - 0)^2 / (4 * 1 * 4)
    tensor([0.2500])
    """

    def __init__(self, targets: Features, weights: Mapping[str, float] | None = None):
        self.targets = dict(targets)
        self.weights = dict(weights) if weights is not None else None
        self.layers = tuple(self.targets)

    def __call__(self, features: Features, image: torch.Tensor) -> torch.Tensor:
        if not self.targets:
            return image.new_zeros(image.shape[0], dtype=torch.float32)
        return style_loss(features, self.targets, self.weights)

    def per_layer(self, features: Features) -> torch.Tensor:
        """E_l of each image on each style layer, (B, L), columns in the order of ``layers`` (the breakdown)."""
        return torch.stack([style_layer_loss(features[n], a) for n, a in self.targets.items()], dim=1)


class Objective:
    """The total loss of the paper (eq. 7), or any weighted sum of terms, on one network.

    ``terms`` maps a name to ``(weight, term)``; the weight is a number or a (B,) tensor (one per image).
    ``precision="bf16"`` runs the network's convolutions in bfloat16; targets made by :meth:`for_images` go
    through the same arithmetic, so the content image itself scores L_content = 0 exactly.

    ``objective(image)`` returns ``{name: (B,) unweighted, ..., "total": (B,)}``.
    """

    def __init__(
        self, vgg: VGG19Features | None, terms: Mapping[str, tuple[float | torch.Tensor, Term]], precision: str = "fp32"
    ):
        self.vgg = vgg
        self.terms = dict(terms)
        self.precision = precision

    @classmethod
    def for_images(
        cls,
        vgg: VGG19Features,
        content: torch.Tensor | None,
        style: torch.Tensor | Sequence[torch.Tensor] | None,
        *,
        content_layers: Sequence[str] = (),
        style_layers: Sequence[str] = (),
        style_weights: Mapping[str, float] | None = None,
        alpha: float | torch.Tensor = 1.0,
        beta: float | torch.Tensor = 1.0,
        tv_weight: float = 0.0,
        precision: str = "fp32",
        style_blend: Sequence[float] | None = None,
        content_masks: Sequence[torch.Tensor] | None = None,
        style_masks: Sequence[torch.Tensor] | None = None,
        mask_propagation: str = "simple",
    ) -> Objective:
        """The paper's objective for a photo and an artwork: their targets computed once, without gradients.

        The style image is resized to the content image's size first, as in the paper. ``content`` or ``style``
        may be None when its layers are empty (a texture synthesis, a content reconstruction). ``tv_weight`` > 0
        adds a total-variation term ``"tv"`` (``controls/tv.py``); other terms are added with :meth:`with_term`.

        ``style`` may be a list of K artworks: their Gram matrices are blended, sum_k w_k A_k, with
        ``style_blend`` = the w_k (default equal; ``controls/blend.py``). With ``content_masks`` (R masks (H, W) at
        the photo's size) region r takes its style from ``style[r]`` (or from one artwork's ``style_masks[r]``
        part): a guided style term (``controls/masks.py``) replaces the plain one.

        >>> from tutorial_style import get_vgg, load_image
        >>> c, s = load_image("chelsea", size=32), load_image("mosaic", size=32)
        >>> objective = Objective.for_images(get_vgg("random"), c, s, content_layers=["relu4_2"],
        ...                                  style_layers=["relu1_1", "relu2_1"], alpha=1e-3, beta=1.0)
        >>> losses = objective(c)
        >>> sorted(losses), float(losses["content"])  # the photo itself has no content loss
        (['content', 'style', 'total'], 0.0)
        """
        objective = cls(vgg, {}, precision)
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        with torch.no_grad():
            p = objective.features(content, content_layers) if content_layers else {}
            if style_layers and content is not None:
                styles = [resize_to(s, content.shape[-2:]) for s in styles]  # the paper's: the photo's size
            if not style_layers:
                style_term = StyleTerm({}, style_weights)
            elif content_masks is not None:
                hw = content.shape[-2:]  # every style was resized to the photo's size, and so are their masks
                content_masks = [resize_mask(m.to(content.device), hw) for m in content_masks]
                style_masks = (
                    None if style_masks is None else [resize_mask(m.to(content.device), hw) for m in style_masks]
                )
                style_term = guided_style_term(
                    objective.features,
                    styles,
                    content_masks,
                    style_masks,
                    style_layers,
                    mask_propagation,
                    style_weights,
                )
            else:
                grams = [{n: gram_matrix(f) for n, f in objective.features(s, style_layers).items()} for s in styles]
                blend = style_blend if style_blend is not None else [1.0 / len(styles)] * len(styles)
                a = (
                    grams[0]
                    if len(grams) == 1
                    else {n: blend_grams([g[n] for g in grams], blend) for n in style_layers}
                )
                style_term = StyleTerm(a, style_weights)
        objective.terms = {"content": (alpha, ContentTerm(p)), "style": (beta, style_term)}
        if tv_weight:
            objective.terms["tv"] = (tv_weight, TVTerm())
        return objective

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer a term needs, each once, in the order the terms name them."""
        return tuple(dict.fromkeys(n for _, term in self.terms.values() for n in term.layers))

    def features(self, image: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """The network's features of ``image`` on ``layers`` (default: :attr:`layers`), in the objective's precision."""
        layers = self.layers if layers is None else tuple(layers)
        if not layers:
            return {}
        device = image.device
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            return self.vgg(image, layers)

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.from_features(self.features(image), image)

    def from_features(self, features: Features, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every term (unweighted) and the weighted total, per image, from features already computed."""
        values = {name: term(features, image) for name, (_, term) in self.terms.items()}
        total = image.new_zeros(image.shape[0], dtype=torch.float32)
        for name, (weight, _) in self.terms.items():
            total = total + weight * values[name]
        return {**values, "total": total}

    def breakdown(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """L_content (B,) and the per-layer style losses E_l (B, L) of ``image``, in one forward pass."""
        features = self.features(image)
        content, style = self.terms["content"][1], self.terms["style"][1]
        return content(features, image), style.per_layer(features)

    def with_content(self, content: torch.Tensor) -> Objective:
        """The same objective with the content targets of another photo (or batch of photos); the other terms,
        the style's Gram matrices among them, are shared. This is how a feed-forward network's training asks for
        the loss of each new batch."""
        weight, term = self.terms["content"]
        with torch.no_grad():
            targets = self.features(content, term.layers)
        return self.with_term("content", ContentTerm(targets))

    def with_term(self, name: str, term: Term, weight: float | torch.Tensor | None = None) -> Objective:
        """The same objective with term ``name`` replaced by ``term``, at the same weight unless ``weight`` is given,
        or, when it has no such term, with ``term`` added at ``weight`` after the others (the others shared).

        >>> class Ones:
        ...     layers = ()
        ...     def __call__(self, features, image): return image.new_ones(image.shape[0])
        >>> objective = Objective(None, {}).with_term("ones", Ones(), weight=2.0)
        >>> objective(torch.zeros(1, 3, 2, 2))
        {'ones': tensor([1.]), 'total': tensor([2.])}
        """
        if name == "total":
            raise ValueError("'total' names the weighted sum of the terms; give the term another name")
        if name not in self.terms and weight is None:
            raise ValueError(
                f"the objective has no term {name!r} (its terms are {', '.join(self.terms) or 'none'}); "
                "give a weight to add it"
            )
        weight = self.terms[name][0] if weight is None else weight
        return Objective(self.vgg, {**self.terms, name: (weight, term)}, self.precision)
