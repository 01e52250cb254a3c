"""Drawings and plots: keypoints on images, grids, heatmaps, PCK curves, comparisons.

Every function returns a matplotlib ``Axes`` or ``Figure`` with a fixed size, a
title and labelled axes; none calls ``plt.show``.
"""

from kplearn.viz.keypoints import (
    draw_keypoints,
    keypoint_colors,
    overlay_heatmaps,
    plot_bar_table,
    plot_heatmap_channels,
    plot_pck_curves,
    show_dataset,
    show_grid,
)

__all__ = [
    "draw_keypoints",
    "keypoint_colors",
    "overlay_heatmaps",
    "plot_bar_table",
    "plot_heatmap_channels",
    "plot_pck_curves",
    "show_dataset",
    "show_grid",
]
