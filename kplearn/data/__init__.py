"""Keypoint data: synthetic generators, file formats, transforms and datasets."""

from kplearn.data.faces68 import load_faces68
from kplearn.data.fetch import download
from kplearn.data.specs import load_data

__all__ = ["download", "load_faces68", "load_data"]
