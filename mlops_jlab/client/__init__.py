"""Client faces (Python API, magics) and the backends they call."""
