"""Bundled data: transcript panel bundles, and later hotspots, evidence and demo inputs."""
