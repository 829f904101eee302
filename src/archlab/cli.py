"""`archlab <verb>`: the command line for people (plain text) and scripts (`--json`).

Exit codes: 0 success; 2 bad params or data (ArchlabError); 3 data validation failed.
Heavy libraries (TensorFlow, MLflow, Great Expectations) are imported inside the verbs that need them, so
`archlab --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from archlab.errors import ArchlabError

app = typer.Typer(help="archlab: which deep-learning architecture works best on my data?", no_args_is_help=True,
                  add_completion=False)


def _fail(exc: ArchlabError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


@app.command()
def summary(root: Path = typer.Option(Path("."), help="project root"),
            as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Print what the pipeline produced (dataset, validation)."""
    from archlab.summary import summary_lines

    lines = summary_lines(root)
    typer.echo(json.dumps({"summary": lines}) if as_json else "\n".join(lines))


@app.command("check-params")
def check_params(params: Path = typer.Argument(Path("params.yaml"), help="params file to check"),
                 as_json: bool = typer.Option(False, "--json", help="print the resolved params as JSON")) -> None:
    """Validate a params file against the schema; print every problem with its key path."""
    from archlab.params import load_params

    try:
        resolved = load_params(params)
    except ArchlabError as exc:
        _fail(exc)
    if as_json:
        typer.echo(resolved.model_dump_json(by_alias=True, indent=2))
    else:
        typer.echo(f"{params}: ok")


def main() -> None:  # pragma: no cover - console entry for `python -m archlab.cli`
    app()
    sys.exit(0)


if __name__ == "__main__":
    app()
