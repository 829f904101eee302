"""DVC stage `featurize@<backbone>`: frozen pretrained backbone -> cached embeddings for every split."""

from pathlib import Path

from archlab import stagekit
from archlab.features import featurize
from archlab.params import load_params


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--backbone", required=True, help="vgg16, resnet50 or mobilenet_v2")
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder")
    p.add_argument("--out", required=True, type=Path, help="output folder data/features/<backbone>")
    args = p.parse_args()
    featurize(load_params(args.params), args.backbone, data_dir=args.data, out_dir=args.out)


if __name__ == "__main__":
    stagekit.run(main)
