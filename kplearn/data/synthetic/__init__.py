"""Procedural keypoint data with exact ground truth.

Generators (all seeded; item ``i`` depends only on the seed and ``i``):

- :func:`make_faces` — drawn faces with the 68 iBUG 300-W landmarks (``faces68``);
- :func:`make_people` — single-person crops with the 17 COCO keypoints (``coco17``);
- :func:`make_people_scenes` — several people per image, with boxes and areas for OKS/AP;
- :func:`make_shapes` — polygons, stars and checkerboards with corner and centre keypoints;
- :func:`make_homography_pairs` — two views of a scene related by a known homography;
- :func:`make_sequence` — a smoothly moving image (video frames) with the keypoints of each frame;
- :func:`make_poses_3d`, :func:`project_poses` — 3D stick-figure poses (``coco17``) and their 2D views;
- :func:`make_xrays` — knee radiographs with six landmarks (``knee6``).

See ``datasets/cards/synthetic.md`` for the full description of each dataset.
"""

from kplearn.data.synthetic.faces import FACE_TEMPLATE, make_faces
from kplearn.data.synthetic.homography import (
    HomographyPair,
    apply_homography,
    make_homography_pairs,
)
from kplearn.data.synthetic.people import make_people, make_people_scenes
from kplearn.data.synthetic.poses3d import make_poses_3d, project_poses
from kplearn.data.synthetic.sequences import make_sequence
from kplearn.data.synthetic.shapes import SHAPE_KINDS, make_shapes, polygon_centroid
from kplearn.data.synthetic.xrays import make_xrays

__all__ = [
    "FACE_TEMPLATE",
    "HomographyPair",
    "SHAPE_KINDS",
    "apply_homography",
    "make_faces",
    "make_homography_pairs",
    "make_people",
    "make_people_scenes",
    "make_poses_3d",
    "make_sequence",
    "make_shapes",
    "make_xrays",
    "polygon_centroid",
    "project_poses",
]
