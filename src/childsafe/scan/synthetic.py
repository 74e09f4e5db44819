"""Generated test pictures (shapes, gradients, noise): for tests, benchmarks and demos, never real photos.

Each picture is a deterministic function of its seed and has enough structure for a PDQ quality well
above 50, so perceptual-hash behaviour can be measured without any real image data.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image


def structured_image(seed: int, size: tuple[int, int] = (256, 256), noise: float = 2.0) -> Image:
    """A random gradient background with random shapes and light noise, fixed by ``seed``."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h + 1.5) / 3.0
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    bg = c0[None, None, :] * (1 - ramp[..., None]) + c1[None, None, :] * ramp[..., None]
    img = PILImage.fromarray(bg.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(6, 14))):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        x0, x1 = sorted(rng.uniform(-0.1, 1.1, 2) * w)
        y0, y1 = sorted(rng.uniform(-0.1, 1.1, 2) * h)
        x1, y1 = max(x1, x0 + w * 0.08), max(y1, y0 + h * 0.08)
        kind = int(rng.integers(0, 3))
        if kind == 0:
            draw.ellipse((x0, y0, x1, y1), fill=color)
        elif kind == 1:
            draw.rectangle((x0, y0, x1, y1), fill=color)
        else:
            pts = [(float(rng.uniform(0, w)), float(rng.uniform(0, h))) for _ in range(int(rng.integers(3, 6)))]
            draw.polygon(pts, fill=color)
    arr = np.asarray(img, dtype=np.int16) + rng.normal(0, noise, (h, w, 3)).astype(np.int16)
    return PILImage.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def flat_image(color: tuple[int, int, int] = (128, 128, 128), size: tuple[int, int] = (128, 128)) -> Image:
    """A single-colour picture: PDQ quality near 0, so it must be recorded and never matched."""
    from PIL import Image as PILImage

    return PILImage.new("RGB", size, color)


def encode(img: Image, fmt: str = "PNG", **params: int) -> bytes:
    """Picture -> file bytes in ``fmt`` (PNG, JPEG, WEBP...)."""
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()
