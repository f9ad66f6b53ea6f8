FROM python:3.11-slim
WORKDIR /app
# The package reads ontology/ and queries/ beside it, so it is installed in place.
COPY pyproject.toml README.md ./
COPY ontology ontology
COPY queries queries
COPY nimgraph nimgraph
COPY api api
RUN pip install --no-cache-dir -e . && useradd --system nimgraph && mkdir -p /var/lib/nimgraph \
    && chown nimgraph /var/lib/nimgraph
USER nimgraph
EXPOSE 8000
CMD ["nimgraph", "serve"]
