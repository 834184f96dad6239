"""Building-block views: panel models without front-end code, drawn by their root's one module
(``static/views.js``, shipped by the explorer or by the one-view root of a view shown alone).

================  ===========================================================================
view              what it shows
================  ===========================================================================
ImageView         one image (gray/RGB) with an optional heatmap overlay and colour bar
SampleGrid        N same-sized images in a grid, captions, per-cell heatmaps, click to select
LatentSliders     named sliders by group, lockable groups, reset / randomise per group
SketchPad         a small grayscale drawing canvas synced to Python
Chart             a plotly figure built in Python, drawn on a canvas; clicks reach Python
controls          Dropdown, ToggleButtons, SelectionSlider, Button, ToggleButton, FloatSlider,
                  IntSlider, BoundedIntText, Text, HTML (the explorers' controls)
================  ===========================================================================

Every view has the ``status`` / ``error`` / ``progress`` traits of
:class:`~invwidgets.widgets.base.WorkerClient` (an error marks the view), a ``label`` (its
heading), ``hidden``, :meth:`add_class`, and :meth:`to_png` (charts excepted).

DOM for browser tests (stable class names):

- the root: ``.invw-root`` (an explorer's host element also has ``.invw-explorer``) holding
  ``.invw-section`` (``h3.invw-section-title``), ``.invw-row`` (wraps) and ``.invw-col``, then
  ``.invw-footer`` with the one ``.invw-status`` (``data-status`` = idle | busy | error |
  disconnected; text = the status line), ``button[data-action=dismiss]`` (clears an error, shown
  only then) and ``button[data-action=export]`` (a PNG of the whole root; for a view shown alone,
  the PNG of its ``to_png()``; JSON for sliders);
- every panel: ``.invw-view`` with ``data-kind`` = ``image`` | ``grid`` | ``sliders`` |
  ``sketch`` | ``chart`` | ``control`` and its ``add_class`` classes, holding
  ``.invw-panel-label`` (the heading), ``.invw-body`` and ``.invw-view-error`` (the message of
  its failed request; the view then has ``.invw-stale``);
- ImageView: ``.invw-image`` holding ``canvas.invw-main`` (the image at native resolution) and
  ``canvas.invw-overlay`` (LUT colours of the heatmap at its native resolution, CSS ``opacity``
  = ``heatmap_opacity``; hidden without a heatmap), ``.invw-caption``, ``.invw-colorbar`` with
  ``canvas`` (256×1, the LUT), ``.invw-vmin`` and ``.invw-vmax``;
- SampleGrid: ``.invw-grid`` of ``.invw-cell[data-index=i]`` (``.invw-selected`` and
  ``aria-selected=true`` on the selected one; click, Enter or Space selects, arrow keys move
  between cells; clicking the selected cell clears the selection), each with
  ``canvas.invw-main``, ``canvas.invw-overlay`` and ``.invw-caption``; ``.invw-colorbar`` as
  above;
- LatentSliders: ``.invw-group[data-group=g]`` (``.invw-locked`` when locked) with
  ``button[data-action=reset|randomize|unlock|lock][data-group=g]`` and ``.invw-warning``, then
  ``.invw-slider[data-index=i]`` with ``.invw-name``, ``input[type=range][data-index=i]``
  (disabled when locked) and ``.invw-value``;
- SketchPad: ``.invw-sketch canvas.invw-main`` (pointer events), ``input.invw-brush``
  (type=range), ``button[data-action=erase]`` (``aria-pressed``), ``button[data-action=clear]``;
- Chart: ``canvas.invw-chart-canvas`` (``role=img``, ``aria-label`` = the title; its
  ``invwHits`` property lists where each cell, bar and point is drawn);
- controls: ``.invw-control[data-control=dropdown|toggles|selection|button|toggle|slider|number|
  text|html]`` with ``.invw-control-label`` and the field (``select``, buttons with
  ``aria-pressed``, ``input``, ``.invw-html``).
"""

from .chart import Chart
from .colormaps import CMAPS, lut
from .image_view import ImageView
from .latent_sliders import LatentSliders
from .png import encode_png
from .sample_grid import SampleGrid
from .sketch_pad import SketchPad

__all__ = ["Chart", "ImageView", "SampleGrid", "LatentSliders", "SketchPad", "CMAPS", "lut", "encode_png"]
