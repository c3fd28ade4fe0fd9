import numpy as np
import pytest

from emviz.analysis.landscape import critical_points
from emviz.data import make_two_mean_sample
from emviz.models import TwoMeanMixture


@pytest.fixture
def three_blobs():
    """300 points from three well-separated 2-D Gaussians."""
    rng = np.random.default_rng(42)
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]])
    labels = rng.integers(0, 3, 300)
    return centres[labels] + rng.normal(scale=[0.8, 0.5], size=(300, 2))


@pytest.fixture(scope="session")
def x():
    """The default two-mean sample: 92 points from 0.3·N(0, 1) + 0.7·N(2.5, 1/2)."""
    return make_two_mean_sample()


@pytest.fixture(scope="session")
def points(x):
    """Critical points of the default two-mean surface, highest ℓ first."""
    return critical_points(TwoMeanMixture(), x)
