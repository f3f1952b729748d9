"""Models of the patrol app."""
