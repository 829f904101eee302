"""DVC stage `featurize`: each frozen pretrained backbone of featurize.backbones -> cached embeddings for every
split, in data/features/<backbone>/ (no backbones: an empty data/features/)."""

from pathlib import Path

from archlab import stagekit
from archlab.features import featurize_backbones
from archlab.params import load_params


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder")
    p.add_argument("--out", required=True, type=Path, help="output folder data/features")
    args = p.parse_args()
    featurize_backbones(load_params(args.params), data_dir=args.data, out_root=args.out)


if __name__ == "__main__":
    stagekit.run(main)
