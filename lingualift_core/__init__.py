"""LinguaLIFT pure library: config, artifacts, synthetic world and the method's building blocks.

Nothing here imports Prefect or DVC; stages in `lingualift_core.stages` do the I/O.
"""

__version__ = "0.1.0"
