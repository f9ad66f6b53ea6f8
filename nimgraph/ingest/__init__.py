"""Ingestion: mapping specs turn partner files into entities and links with provenance."""
