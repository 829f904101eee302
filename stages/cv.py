"""DVC stage `cv@<arch>`: one architecture on every fold of `compare` (repeated stratified k-fold over train +
val, folds side by side on Ray); its fold scores to metrics/cv/<arch>.json."""

from pathlib import Path

from archlab import stagekit
from archlab.compare.run import cross_validate
from archlab.params import load_params


def main() -> None:
    p = stagekit.parser(__doc__)
    stagekit.add_model_inputs(p)
    p.add_argument("--tuned", type=Path, help="tune@<arch>'s tuned/<arch>.yaml")
    p.add_argument("--out", required=True, type=Path, help="output metrics/cv/<arch>.json")
    p.add_argument("--resume", default=Path(".archlab/cv"), type=Path,
                   help="each finished fold's score: a killed stage resumes from here")
    args = p.parse_args()
    cross_validate(load_params(args.params), args.arch, data_dir=args.data, validation_report=args.validation,
                   tuned_path=args.tuned, out_path=args.out, resume_root=args.resume)


if __name__ == "__main__":
    stagekit.run(main)
