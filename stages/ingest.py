"""DVC stage `ingest`: read the configured source into data/ingested/ (images, labels, manifest, meta)."""

from archlab import stagekit
from archlab.ingest import ingest
from archlab.params import load_params


def main() -> None:
    p = stagekit.parser(__doc__)
    p.add_argument("--out", required=True, help="dataset folder to write (e.g. data/ingested)")
    p.add_argument("--rejected", required=True, help="CSV listing rejected samples (e.g. reports/ingest_rejected.csv)")
    args = p.parse_args()
    ingest(load_params(args.params), out_dir=args.out, rejected_csv=args.rejected)


if __name__ == "__main__":
    stagekit.run(main)
