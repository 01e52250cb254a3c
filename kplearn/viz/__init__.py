"""Drawings and plots: keypoints on images, grids, heatmaps, PCK curves, comparisons,
interest points and their matches.

Every function returns a matplotlib ``Axes`` or ``Figure`` with a fixed size, a
title and labelled axes; none calls ``plt.show``.
"""

from kplearn.viz.architecture import drawn, plot_hourglass_diagram, plot_hrnet_diagram
from kplearn.viz.classical import plot_cascade, plot_response_maps
from kplearn.viz.interest import plot_interest_points, plot_matches
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
from kplearn.viz.tradeoff import plot_cost_accuracy
from kplearn.viz.training import draw_cascade_stages, plot_histories, plot_history

__all__ = [
    "drawn",
    "plot_hourglass_diagram",
    "plot_hrnet_diagram",
    "plot_cost_accuracy",
    "draw_cascade_stages",
    "plot_cascade",
    "plot_histories",
    "plot_interest_points",
    "plot_matches",
    "plot_history",
    "plot_response_maps",
    "draw_keypoints",
    "keypoint_colors",
    "overlay_heatmaps",
    "plot_bar_table",
    "plot_heatmap_channels",
    "plot_pck_curves",
    "show_dataset",
    "show_grid",
]
