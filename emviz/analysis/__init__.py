"""Analyses of recorded runs: explanations, landscapes, rates."""
