"""Generate the bundled "artwork" style images for the tutorial.

Neural style transfer needs style images with strong colour and texture.
Rather than shipping copyrighted paintings, this script paints four
synthetic artworks procedurally, using only numpy and Pillow:

* ``mosaic.jpg``  - Voronoi stained glass with dark leading lines.
* ``swirls.jpg``  - short brush strokes following a vortex flow field,
  in a "starry night" palette of blues and yellows.
* ``circles.jpg`` - a Kandinsky-like composition of overlapping
  coloured circles, halos and lines on a textured ground.
* ``stripes.png`` - wavy op-art / woodcut-like black and coloured bands.

Every image is 512 x 512 RGB and is written next to this script.
The output is deterministic (each image uses its own fixed seed), and the
whole script runs in a few seconds::

    python images/make_styles.py
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 512
OUT_DIR = Path(__file__).resolve().parent


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def hex_to_rgb(code):
    """Convert ``"#rrggbb"`` to an ``(r, g, b)`` tuple of ints."""
    code = code.lstrip("#")
    return tuple(int(code[i : i + 2], 16) for i in (0, 2, 4))


def pixel_grid(size=SIZE):
    """Return ``(x, y)`` float32 coordinate arrays of shape (size, size)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    return x, y


def smooth_noise(rng, size=SIZE, cells=8):
    """Low-frequency noise in [0, 1]: random values on a coarse grid, upscaled."""
    coarse = rng.random((cells, cells)).astype(np.float32)
    img = Image.fromarray((coarse * 255).astype(np.uint8))
    img = img.resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def to_image(rgb):
    """Clip a float array (H, W, 3) in 0..255 and convert it to a PIL image."""
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


# --------------------------------------------------------------------------
# 1. Stained-glass Voronoi mosaic
# --------------------------------------------------------------------------

MOSAIC_PALETTE = [
    hex_to_rgb(c)
    for c in (
        "#b3122e",
        "#e0482b",
        "#f2a81d",
        "#f6d55c",
        "#2a9d8f",
        "#1b6ca8",
        "#163b8c",
        "#5b2a86",
        "#8e3b9c",
        "#3f8f3a",
        "#86b84a",
        "#d9e4dd",
    )
]


def voronoi(points, size=SIZE):
    """Nearest-seed label and the distances to the two nearest seeds."""
    x, y = pixel_grid(size)
    d1 = np.full((size, size), np.inf, np.float32)
    d2 = np.full((size, size), np.inf, np.float32)
    label = np.zeros((size, size), np.int32)
    for i, (px, py) in enumerate(points):
        d = np.hypot(x - px, y - py)
        closer = d < d1
        d2 = np.where(closer, d1, np.minimum(d2, d))
        d1 = np.where(closer, d, d1)
        label = np.where(closer, i, label)
    return label, d1, d2


def make_mosaic(seed=1):
    """Stained glass: jewel-coloured Voronoi cells separated by lead lines."""
    rng = np.random.default_rng(seed)
    # Jittered grid of seeds gives cells of fairly even size.
    n = 11
    step = SIZE / n
    gx, gy = np.meshgrid(np.arange(n), np.arange(n))
    points = np.stack([gx.ravel(), gy.ravel()], axis=1) * step
    points = points + rng.uniform(0.1, 0.9, points.shape) * step

    label, d1, d2 = voronoi(points)
    colours = np.array(MOSAIC_PALETTE, np.float32)
    cell_colour = colours[rng.integers(len(colours), size=len(points))]
    rgb = cell_colour[label]

    # Glass glows brighter in the middle of each cell, darker at the rim.
    glow = 0.75 + 0.35 * np.clip(d2 - d1, 0, 30)[..., None] / 30
    # Streaky "hand-made glass" texture and fine grain.
    streaks = smooth_noise(rng, cells=24)[..., None]
    grain = rng.normal(0, 6, rgb.shape).astype(np.float32)
    rgb = rgb * glow * (0.85 + 0.3 * streaks) + grain

    # Dark leading where the two nearest seeds are almost equally far away.
    lead = np.clip((d2 - d1 - 2.0) / 2.0, 0, 1)[..., None]
    lead_colour = np.array(hex_to_rgb("#1c1a17"), np.float32)
    rgb = rgb * lead + lead_colour * (1 - lead)
    return to_image(rgb)


# --------------------------------------------------------------------------
# 2. Swirling brush strokes along a vortex flow field
# --------------------------------------------------------------------------

NIGHT_BLUES = [
    hex_to_rgb(c)
    for c in (
        "#0b1e4a",
        "#13357a",
        "#1f4fa3",
        "#2f6db5",
        "#4b8fcf",
        "#7fb3d9",
    )
]
NIGHT_LIGHTS = [hex_to_rgb(c) for c in ("#f4d35e", "#f7e08a", "#fff6c8", "#e8a33d")]

# Vortex centres (x, y), strength (sign = direction) and radius of the
# bright "star" drawn at the centre.
VORTICES = [
    (150, 150, 1.0, 38),
    (380, 110, -0.8, 26),
    (330, 330, 1.2, 46),
    (90, 400, -0.7, 20),
]


def flow(x, y):
    """Unit velocity of a gentle drift to the right plus several vortices."""
    vx = np.full_like(x, 0.35)
    vy = 0.15 * np.sin(x / 60.0)
    for cx, cy, strength, _ in VORTICES:
        dx, dy = x - cx, y - cy
        r2 = dx * dx + dy * dy + 400.0
        falloff = strength * 4000.0 / r2
        vx += -dy * falloff / np.sqrt(r2)
        vy += dx * falloff / np.sqrt(r2)
    norm = np.hypot(vx, vy) + 1e-6
    return vx / norm, vy / norm


def trace_strokes(starts, steps=14, step_len=2.5):
    """Integrate all stroke paths at once; returns (n, steps + 1, 2) points."""
    path = [starts]
    pos = starts.copy()
    for _ in range(steps):
        vx, vy = flow(pos[:, 0], pos[:, 1])
        pos = pos + step_len * np.stack([vx, vy], axis=1)
        path.append(pos)
    return np.stack(path, axis=1)


def stroke_colour(rng, x, y):
    """Pick a stroke colour: warm lights near vortex centres, blues elsewhere."""
    for cx, cy, _, radius in VORTICES:
        if np.hypot(x - cx, y - cy) < radius * 1.6:
            return NIGHT_LIGHTS[rng.integers(len(NIGHT_LIGHTS))]
    # Lighter blues higher up in the "sky", deeper blues lower down.
    shade = np.clip(len(NIGHT_BLUES) * (1 - y / SIZE) + rng.normal(0, 1.2), 0, len(NIGHT_BLUES) - 1)
    if rng.random() < 0.04:
        return NIGHT_LIGHTS[rng.integers(len(NIGHT_LIGHTS))]
    return NIGHT_BLUES[int(shade)]


def make_swirls(seed=2):
    """Van-Gogh-like night sky: short thick strokes following vortices."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (SIZE, SIZE), hex_to_rgb("#0d2250"))
    draw = ImageDraw.Draw(img)

    # Bright discs under the vortex centres, like stars or a moon.
    for cx, cy, _, radius in VORTICES:
        for k, colour in enumerate(("#e8a33d", "#f4d35e", "#fff6c8")):
            r = radius * (1 - 0.3 * k)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)

    starts = rng.uniform(-20, SIZE + 20, size=(5000, 2)).astype(np.float32)
    paths = trace_strokes(starts)
    for path in paths:
        x0, y0 = path[0]
        colour = stroke_colour(rng, x0, y0)
        width = int(rng.integers(2, 6))
        draw.line([tuple(p) for p in path], fill=colour, width=width, joint="curve")
    return img.filter(ImageFilter.SMOOTH)


# --------------------------------------------------------------------------
# 3. Kandinsky-like circles and lines
# --------------------------------------------------------------------------

CIRCLE_COLOURS = [
    hex_to_rgb(c)
    for c in (
        "#d62828",
        "#f77f00",
        "#fcbf49",
        "#1d3557",
        "#457b9d",
        "#2a9d8f",
        "#6a4c93",
        "#e76f51",
        "#111111",
        "#8ac926",
        "#ff595e",
        "#1982c4",
    )
]


def textured_ground(rng):
    """Warm cream canvas with soft blotches and fine grain."""
    base = np.array(hex_to_rgb("#efe3c8"), np.float32)
    blotch = smooth_noise(rng, cells=6)[..., None] - 0.5
    grain = rng.normal(0, 5, (SIZE, SIZE, 1)).astype(np.float32)
    return to_image(base * (1 + 0.15 * blotch) + grain)


def draw_circle(layer, rng, cx, cy, r, core=None):
    """A filled circle surrounded by a soft, differently coloured halo."""
    draw = ImageDraw.Draw(layer)
    halo = CIRCLE_COLOURS[rng.integers(len(CIRCLE_COLOURS))]
    if core is None:
        core = CIRCLE_COLOURS[rng.integers(len(CIRCLE_COLOURS))]
    h = r * rng.uniform(1.1, 1.35)
    draw.ellipse((cx - h, cy - h, cx + h, cy + h), fill=halo + (120,))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=core + (230,))
    if rng.random() < 0.4:  # occasional inner eye
        e = r * rng.uniform(0.25, 0.5)
        eye = CIRCLE_COLOURS[rng.integers(len(CIRCLE_COLOURS))]
        draw.ellipse((cx - e, cy - e, cx + e, cy + e), fill=eye + (235,))


def make_circles(seed=3):
    """Overlapping translucent circles, crossing lines and a checkerboard."""
    rng = np.random.default_rng(seed)
    canvas = textured_ground(rng).convert("RGBA")

    # One big dark circle anchors the composition, then many smaller ones.
    big = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw_circle(big, rng, 200, 230, 140, core=hex_to_rgb("#1d3557"))
    canvas = Image.alpha_composite(canvas, big)
    for _ in range(22):
        cx, cy = rng.uniform(0, SIZE, 2)
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        draw_circle(layer, rng, cx, cy, rng.uniform(12, 75))
        canvas = Image.alpha_composite(canvas, layer)

    draw = ImageDraw.Draw(canvas)
    # Small checkerboard patch.
    ox, oy, cell = 360, 380, 14
    for i in range(6):
        for j in range(6):
            colour = "#111111" if (i + j) % 2 else "#f7f3e8"
            draw.rectangle((ox + i * cell, oy + j * cell, ox + (i + 1) * cell, oy + (j + 1) * cell), fill=colour)
    # Straight lines of varying weight crossing the picture.
    for _ in range(10):
        x0, y0 = rng.uniform(0, SIZE, 2)
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(120, 420)
        x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
        colour = CIRCLE_COLOURS[rng.integers(len(CIRCLE_COLOURS))]
        draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(2, 8)))
    # A few arcs.
    for _ in range(5):
        cx, cy = rng.uniform(0, SIZE, 2)
        r = rng.uniform(40, 140)
        start = rng.uniform(0, 360)
        draw.arc(
            (cx - r, cy - r, cx + r, cy + r),
            start,
            start + rng.uniform(60, 200),
            fill="#111111",
            width=int(rng.integers(2, 5)),
        )
    return canvas.convert("RGB")


# --------------------------------------------------------------------------
# 4. Wavy op-art / woodcut bands
# --------------------------------------------------------------------------

BAND_INKS = [hex_to_rgb(c) for c in ("#c1121f", "#1d3557", "#e36414")]
BAND_PAPER = hex_to_rgb("#f4ecd8")


def make_stripes(seed=4, supersample=2):
    """Black-ink wavy bands whose width swells and thins, over colour zones."""
    rng = np.random.default_rng(seed)
    n = SIZE * supersample
    x, y = pixel_grid(n)
    x, y = x / supersample, y / supersample

    # Phase field: horizontal lines bent by waves and a central bulge.
    bulge = 60 * np.exp(-((x - 300) ** 2 + (y - 220) ** 2) / (2 * 120.0**2))
    phase = y + 18 * np.sin(x / 37.0 + 0.8) + 10 * np.sin((x + y) / 23.0) + bulge
    period = 14.0
    wave = 0.5 + 0.5 * np.cos(2 * np.pi * phase / period)

    # The ink line thickens and thins across the image, like a woodcut.
    thickness = 0.25 + 0.5 * (0.5 + 0.5 * np.sin(x / 90.0 - y / 140.0))
    ink = wave > 1 - thickness

    # Background colour zones: paper, interrupted by large coloured blobs.
    zones = Image.fromarray((rng.random((4, 4)) * 255).astype(np.uint8))
    zones = np.asarray(zones.resize((n, n), Image.BICUBIC), np.float32) / 255
    zone_index = np.clip((zones * 4).astype(int), 0, 3)
    palette = np.array([BAND_PAPER] + BAND_INKS, np.float32)
    ground = palette[zone_index]

    rgb = np.where(ink[..., None], np.float32(20), ground)
    img = to_image(rgb)
    return img.resize((SIZE, SIZE), Image.LANCZOS)


# --------------------------------------------------------------------------

STYLES = {
    "mosaic.jpg": make_mosaic,
    "swirls.jpg": make_swirls,
    "circles.jpg": make_circles,
    "stripes.png": make_stripes,
}


def save(img, path):
    """Save as high-quality JPEG or optimised PNG depending on the suffix."""
    if path.suffix == ".jpg":
        img.save(path, quality=90, optimize=True)
    else:
        img.save(path, optimize=True)


def main():
    for filename, painter in STYLES.items():
        path = OUT_DIR / filename
        save(painter(), path)
        print(f"wrote {path.name} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
