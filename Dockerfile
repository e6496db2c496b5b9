# The API image. Neo4j runs as its own container (docker-compose.yml); NEO4J_URI points the app at it.

# The explorer's graph library from the npm registry, pinned by explorer/package-lock.json (as `make explorer-assets`).
FROM node:20-slim AS explorer-assets
WORKDIR /build
COPY explorer/package.json explorer/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IDGRAPH_HOST=0.0.0.0 \
    IDGRAPH_PORT=8000 \
    IDGRAPH_LOG_FORMAT=json

WORKDIR /srv/idgraph
COPY pyproject.toml README.md ./
COPY app ./app
COPY --from=explorer-assets /build/node_modules/cytoscape/dist/cytoscape.min.js ./app/explorer/static/vendor/
COPY graph_model ./graph_model
COPY cypher ./cypher
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 idgraph
USER idgraph

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"
CMD ["idgraph", "serve"]
