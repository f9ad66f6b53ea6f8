"""Link and association analysis: pure functions over NetworkX graphs.

Nodes carry ``type``, ``label``, ``properties`` and ``provenance``; edges carry ``type`` and
``provenance``, keyed by link id, in a ``MultiDiGraph`` built by :func:`build.to_networkx`.
Nothing here touches a store or HTTP.
"""
