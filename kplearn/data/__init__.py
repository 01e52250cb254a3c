"""Keypoint data: synthetic generators, file formats, transforms and datasets."""
