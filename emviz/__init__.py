"""emviz: watch the Expectation–Maximization algorithm work, one half-step at a time."""

from emviz.engine import run_em
from emviz.history import History, Step
from emviz.models import GaussianMixture, GaussianParams

__all__ = ["GaussianMixture", "GaussianParams", "History", "Step", "run_em"]
__version__ = "0.1.0"
