"""The nimgraph HTTP API."""
