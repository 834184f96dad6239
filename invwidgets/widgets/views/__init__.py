"""Building-block views: anywidget widgets with one shared front end (``static/views.js``).

================  ===========================================================================
view              what it shows
================  ===========================================================================
ImageView         one image (gray/RGB) with an optional heatmap overlay and colour bar
SampleGrid        N same-sized images in a grid, captions, per-cell heatmaps, click to select
LatentSliders     named sliders by group, lockable groups, reset / randomise per group
SketchPad         a small grayscale drawing canvas synced to Python
================  ===========================================================================

Every view has the ``status`` / ``error`` / ``progress`` traits of
:class:`~invwidgets.widgets.base.WorkerClient`, shown in a compact status line, an export
button, and :meth:`to_png`.

DOM for browser tests (stable class names; every view's root is ``.invw-view`` with
``data-kind`` = ``image`` | ``grid`` | ``sliders`` | ``sketch``):

- all views: ``.invw-status`` (``data-status`` = idle | busy | error; text = the status or the
  error message), ``button[data-action=dismiss]`` (clears an error, shown only then),
  ``button[data-action=export]`` (downloads a PNG identical to ``to_png()``; JSON for
  sliders);
- ImageView: ``.invw-image`` holding ``canvas.invw-main`` (the image at native resolution) and
  ``canvas.invw-overlay`` (LUT colours of the heatmap at its native resolution, CSS ``opacity``
  = ``heatmap_opacity``; hidden without a heatmap), ``.invw-caption``, ``.invw-colorbar`` with
  ``canvas`` (256×1, the LUT), ``.invw-vmin`` and ``.invw-vmax``;
- SampleGrid: ``.invw-grid`` of ``.invw-cell[data-index=i]`` (``.invw-selected`` and
  ``aria-selected=true`` on the selected one; click, Enter or Space selects; clicking the
  selected cell clears the selection), each with ``canvas.invw-main``, ``canvas.invw-overlay``
  and ``.invw-caption``; ``.invw-colorbar`` as above;
- LatentSliders: ``.invw-group[data-group=g]`` (``.invw-locked`` when locked) with
  ``button[data-action=reset|randomize|unlock|lock][data-group=g]`` and ``.invw-warning``, then
  ``.invw-slider[data-index=i]`` with ``.invw-name``, ``input[type=range][data-index=i]``
  (disabled when locked) and ``.invw-value``;
- SketchPad: ``.invw-sketch canvas.invw-main`` (pointer events), ``input.invw-brush``
  (type=range), ``button[data-action=erase]`` (``aria-pressed``), ``button[data-action=clear]``.
"""

from .chart import Chart
from .colormaps import CMAPS, lut
from .image_view import ImageView
from .latent_sliders import LatentSliders
from .png import encode_png
from .sample_grid import SampleGrid
from .sketch_pad import SketchPad

__all__ = ["Chart", "ImageView", "SampleGrid", "LatentSliders", "SketchPad", "CMAPS", "lut", "encode_png"]
