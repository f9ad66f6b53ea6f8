"""Entity resolution: the same person, address or vehicle across agencies, found by probabilistic record
linkage (Splink), explained, and proposed for review; never merged without an analyst."""
