"""The service layer: what the CLI, notebooks and the web app call (the Recommender facade,
building, adding, removing and merging papers)."""

from .build import BuildReport, build_index
from .edits import AddReport, add_papers, remove_papers
from .merge import MergeReport, merge_papers
from .recommender import Recommender

__all__ = ["Recommender", "build_index", "BuildReport", "add_papers", "remove_papers", "AddReport", "merge_papers", "MergeReport"]
