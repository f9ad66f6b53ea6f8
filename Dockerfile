# The image installs the built wheel, as a user's pip would: the package carries its ontology,
# queries, templates and assets, so nothing is read from a source tree.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY nimgraph nimgraph
COPY api api
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
COPY --from=build /dist /dist
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist && useradd --system nimgraph \
    && mkdir -p /var/lib/nimgraph /var/lib/nimgraph-anchor \
    && chown nimgraph /var/lib/nimgraph /var/lib/nimgraph-anchor
USER nimgraph
WORKDIR /var/lib/nimgraph
EXPOSE 8000
CMD ["nimgraph", "serve"]
