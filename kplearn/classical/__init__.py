"""The classical pipeline: interest points and HOG + SVM / SDM localisers."""
