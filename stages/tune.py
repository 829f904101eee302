"""DVC stage `tune@<arch>`: one architecture's equal-budget study (Ray Tune + Optuna); its best config to tuned/."""

from pathlib import Path

from archlab import stagekit
from archlab.params import load_params
from archlab.tuning.run import tune


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--arch", required=True, help="architecture name (a key of train.architectures)")
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder (train and val are read)")
    p.add_argument("--validation", required=True, type=Path, help="validate stage's report (must say success)")
    p.add_argument("--out", required=True, type=Path, help="output tuned/<arch>.yaml")
    p.add_argument("--features", type=Path, default=None,
                   help="cached backbone features (data/features/<backbone>), for feature heads")
    p.add_argument("--studies", default=Path(".archlab/tune"), type=Path,
                   help="Ray Tune's experiment folders: a killed study resumes from here")
    args = p.parse_args()
    tune(load_params(args.params), args.arch, data_dir=args.data, validation_report=args.validation,
         out_path=args.out, storage_root=args.studies, features_dir=args.features)


if __name__ == "__main__":
    stagekit.run(main)
