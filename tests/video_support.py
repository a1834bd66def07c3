"""Helpers of the video tests (test_video_flicker.py, test_video_smoothing.py): a tiny network that makes texture,
a clip whose motion is known, and the check of a one-line command-line error."""

import torch

from tutorial_style import load_image
from tutorial_style.realtime import StyleNetwork


def tiny_network(seed=0) -> StyleNetwork:
    torch.manual_seed(seed)
    net = StyleNetwork(width=0.25, blocks=1)
    with torch.no_grad():  # instance norm starts as the identity: give it values, so the network makes texture
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return net.eval()


def shifted_clip(frames=6, step=(2, 1), size=48):
    """A photo seen through a window moved by whole pixels, ``step`` (x, y) a frame: frame t shows the photo's
    pixel (x + t dx, y + t dy) at (x, y): I_t(x) = I_t-1(x + step), so the flow from frame t back to t-1 is the step."""
    photo = load_image("astronaut", size=128)
    dx, dy = step
    return torch.cat([photo[..., 20 + t * dy : 20 + t * dy + size, 20 + t * dx : 20 + t * dx + size] for t in range(frames)])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err
