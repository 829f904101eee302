"""DVC stage `train@<arch>`: train one architecture on the validated data, track it in MLflow."""

from pathlib import Path

from archlab import stagekit
from archlab.params import load_params
from archlab.training.run import train


def main() -> None:
    p = stagekit.parser(__doc__)
    stagekit.add_model_inputs(p)
    p.add_argument("--model-dir", required=True, type=Path, help="output folder models/<arch>")
    p.add_argument("--metrics", required=True, type=Path, help="output metrics/train/<arch>.json")
    p.add_argument("--plots", required=True, type=Path, help="output plots/train/<arch>.csv")
    p.add_argument("--tuned", type=Path, default=None,
                   help="tune@<arch>'s tuned/<arch>.yaml: values merged over train.<arch> (empty: none)")
    p.add_argument("--checkpoints", default=Path(".archlab/checkpoints"), type=Path,
                   help="resumable per-epoch backups (kept only until the stage succeeds)")
    args = p.parse_args()
    train(load_params(args.params), args.arch, data_dir=args.data, validation_report=args.validation,
          model_dir=args.model_dir, metrics_path=args.metrics, plots_path=args.plots,
          checkpoint_root=args.checkpoints, features_dir=args.features, tuned_path=args.tuned)


if __name__ == "__main__":
    stagekit.run(main)
