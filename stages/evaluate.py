"""DVC stage `evaluate`: every trained model on the same test split; leaderboard, plots, figures, MLflow."""

from pathlib import Path

from archlab import stagekit
from archlab.evaluation.run import evaluate
from archlab.params import load_params


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--data", required=True, type=Path, help="ingested dataset folder")
    p.add_argument("--models", required=True, type=Path, help="folder holding models/<arch>/")
    p.add_argument("--metrics", required=True, type=Path, help="output metrics/evaluate.json")
    p.add_argument("--plots", required=True, type=Path, help="output folder plots/evaluate")
    p.add_argument("--leaderboard", required=True, type=Path, help="output reports/leaderboard.md")
    p.add_argument("--html", required=True, type=Path, help="output reports/evaluation.html")
    p.add_argument("--figures", required=True, type=Path, help="output folder reports/figures")
    p.add_argument("--claims", type=Path, help="output reports/claims.md")
    p.add_argument("--learning-curve", type=Path, help="the learning_curve stage's metrics/learning_curve.json")
    p.add_argument("--cv", type=Path, help="metrics/cv: the cv@ stages' fold scores (empty: compare is off)")
    p.add_argument("--tuned", type=Path, help="tuned: the tune@ stages' trials (the tuning budget curve)")
    args = p.parse_args()
    evaluate(load_params(args.params), data_dir=args.data, models_dir=args.models, metrics_path=args.metrics,
             plots_dir=args.plots, leaderboard_path=args.leaderboard, html_path=args.html, figures_dir=args.figures,
             claims_path=args.claims, learning_curve_path=args.learning_curve, cv_dir=args.cv, tuned_dir=args.tuned)


if __name__ == "__main__":
    stagekit.run(main)
