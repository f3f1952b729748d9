"""Models of the zoning app."""
