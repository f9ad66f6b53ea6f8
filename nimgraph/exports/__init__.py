"""Exports: the graph in other tools' formats, read through the caller's cleared view."""
