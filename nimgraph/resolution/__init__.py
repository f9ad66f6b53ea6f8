"""Entity resolution: the same person, address or vehicle across agencies, found by probabilistic record
linkage (Splink), explained, and proposed for review; never merged without an analyst."""

# An analyst's decision on a proposed match, as a link's reviewStatus: products read accepted pairs
# as one entity without loading the linkage engine.
ACCEPTED, REJECTED, PROPOSED = "Accepted", "Rejected", "Proposed"
