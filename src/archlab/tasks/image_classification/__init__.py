"""Image classification: labelled images in, one class per image out (the default task)."""

from __future__ import annotations

from archlab.tasks import register
from archlab.tasks.images import ImagesTask


class ImageClassification(ImagesTask):
    name = "image_classification"
    class_balance = True


register(ImageClassification())
