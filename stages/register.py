"""DVC stage `register`: models into the MLflow registry; `@champion` moves only to a better model."""

from pathlib import Path

from archlab import stagekit
from archlab.params import load_params
from archlab.register import register


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder (today's test split)")
    p.add_argument("--models", required=True, type=Path, help="folder holding models/<arch>/")
    p.add_argument("--evaluation", required=True, type=Path, help="metrics/evaluate.json")
    p.add_argument("--decision", required=True, type=Path, help="output reports/register.json")
    args = p.parse_args()
    register(load_params(args.params), data_dir=args.data, models_dir=args.models, evaluation_path=args.evaluation,
             decision_path=args.decision)


if __name__ == "__main__":
    stagekit.run(main)
