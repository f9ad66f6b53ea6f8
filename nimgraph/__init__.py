"""nimgraph: an intelligence-led knowledge graph for community safety partnerships."""

__version__ = "0.1.0"
