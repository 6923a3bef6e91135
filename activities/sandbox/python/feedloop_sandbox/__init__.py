"""feedloop's Python fork-server: a warm parent that forks one confined child per program."""
