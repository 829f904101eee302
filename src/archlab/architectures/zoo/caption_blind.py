"""`caption_blind`: the text-to-image control: `cross_attention`'s generator trained and evaluated with every
caption blanked. Its caption match is what a generator scores without reading the text (about one class in
n_classes), the bar `cross_attention` must clear by a wide margin. It is tuned over the same space, so the
control gets the same budget as the model it checks."""

from __future__ import annotations

from archlab.architectures.registry import Architecture, register
from archlab.architectures.zoo.cross_attention import SEARCH, CrossAttentionParams, fit


class CaptionBlindParams(CrossAttentionParams):
    use_caption: bool = False


register(Architecture(name="caption_blind", family="generative", params=CaptionBlindParams,
                      fits=dict(text_to_image=fit), search=SEARCH))
