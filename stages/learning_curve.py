"""DVC stage `learning_curve`: the listed architectures trained on nested shares of the training split, each
scored on the full test split (`evaluate.learning_curve`; an empty list writes an "off" record)."""

from pathlib import Path

from archlab import stagekit
from archlab.learning_curve import learning_curve
from archlab.params import load_params


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder")
    p.add_argument("--models", required=True, type=Path, help="folder holding models/<arch>/ (the 1.0 points)")
    p.add_argument("--tuned", required=True, type=Path, help="folder of tune@<arch>'s tuned/<arch>.yaml")
    p.add_argument("--features", required=True, type=Path, help="folder of featurize's data/features/<backbone>")
    p.add_argument("--out", required=True, type=Path, help="output metrics/learning_curve.json")
    p.add_argument("--resume", default=Path(".archlab/learning_curve"), type=Path,
                   help="each finished training's score: a killed stage resumes from here")
    args = p.parse_args()
    learning_curve(load_params(args.params), data_dir=args.data, models_dir=args.models, tuned_dir=args.tuned,
                   features_root=args.features, out_path=args.out, resume_root=args.resume)


if __name__ == "__main__":
    stagekit.run(main)
