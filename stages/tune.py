"""DVC stage `tune@<arch>`: one architecture's equal-budget study (Ray Tune + Optuna); its best config to tuned/."""

from pathlib import Path

from archlab import stagekit
from archlab.params import load_params
from archlab.tuning.run import tune


def main() -> None:
    p = stagekit.parser(__doc__)
    stagekit.add_model_inputs(p)
    p.add_argument("--out", required=True, type=Path, help="output tuned/<arch>.yaml")
    p.add_argument("--studies", default=Path(".archlab/tune"), type=Path,
                   help="Ray Tune's experiment folders: a killed study resumes from here")
    args = p.parse_args()
    tune(load_params(args.params), args.arch, data_dir=args.data, validation_report=args.validation,
         out_path=args.out, storage_root=args.studies, features_dir=args.features)


if __name__ == "__main__":
    stagekit.run(main)
