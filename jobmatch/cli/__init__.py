"""The `jobmatch` command line: the only package that prints or exits.

One module per command family (data, index, query, train, rankpo, reranker, prepare,
serve); shared options and the one error translation live in `options`. Heavy libraries
(torch, sentence-transformers, faiss) are imported inside commands so that `jobmatch --help`
stays fast. Any JobmatchError becomes one line `error: ...` and exit 2.
"""

from __future__ import annotations

import click

from jobmatch.cli.data import import_group, label, synth
from jobmatch.cli.index import index
from jobmatch.cli.options import JobmatchGroup
from jobmatch.cli.prepare import judge, mine_negatives
from jobmatch.cli.query import demo, evaluate, query
from jobmatch.cli.rankpo import train_rankpo_command
from jobmatch.cli.reranker import train_reranker_command
from jobmatch.cli.serve import serve
from jobmatch.cli.train import train


@click.group(cls=JobmatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jobmatch")
def main() -> None:
    """Match job descriptions to talent with a bi-encoder, FAISS and rule-based labels.

    \b
    Examples:
      jobmatch demo                                  # the whole pipeline, offline, ~1 minute
      jobmatch synth --candidates 2000 --jobs 50 --out data/
      jobmatch label --jobs data/jobs.parquet --candidates data/candidates.parquet \\
          --out data/qrels.parquet
      jobmatch index build --input data/candidates.parquet --index indexes/demo
      jobmatch query --index indexes/demo --text "Senior NLP engineer in Berlin" -k 5
      jobmatch evaluate --index indexes/demo --jobs data/jobs.parquet \\
          --qrels data/qrels.parquet --baseline bm25
    """


train.add_command(train_rankpo_command)
train.add_command(train_reranker_command)
for command in (synth, label, index, query, evaluate, import_group, demo):
    main.add_command(command)
for command in (mine_negatives, train, judge, serve):
    main.add_command(command)

__all__ = ["main"]
