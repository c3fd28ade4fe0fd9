import numpy as np
import pytest


@pytest.fixture
def three_blobs():
    """300 points from three well-separated 2-D Gaussians."""
    rng = np.random.default_rng(42)
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]])
    labels = rng.integers(0, 3, 300)
    return centres[labels] + rng.normal(scale=[0.8, 0.5], size=(300, 2))
