"""Models of the geodata app."""
