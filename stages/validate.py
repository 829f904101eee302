"""DVC stage `validate`: the Great Expectations suite over the ingested data; a critical failure stops the run."""

from archlab import stagekit
from archlab.params import load_params
from archlab.validation.run import validate


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--data", required=True, help="ingested dataset folder (e.g. data/ingested)")
    p.add_argument("--report", required=True, help="metric file to write (e.g. reports/validation.json)")
    p.add_argument("--docs", required=True, help="Data Docs folder to write (e.g. reports/data_docs)")
    args = p.parse_args()
    validate(load_params(args.params), dataset_dir=args.data, report_path=args.report, docs_dir=args.docs)


if __name__ == "__main__":
    stagekit.run(main)
