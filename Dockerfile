# The images of docker-compose.yml, from Debian packages and the npm registry only (Debian 13: Node 20).
#   facelive: the server, built by the same `npm run setup` that `npm start` runs (package.json)
#   proxy:    HAProxy with deploy/haproxy.cfg (TLS, routing, balancing, health checks)
#   turn:     coturn with deploy/turnserver.conf
ARG DEBIAN=debian:trixie-slim

FROM ${DEBIAN} AS facelive
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# install and build exactly as a person does from the README (npm start = npm run setup, then serve)
RUN npm ci --no-audit --no-fund && npm run setup && npm cache clean --force && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /app facelive
USER facelive
EXPOSE 8080
# SIGTERM drains: no new sessions (/health answers 503), running ones finish (FACELIVE_DRAIN_SECONDS)
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=2s CMD node -e "fetch('http://127.0.0.1:'+(process.env.FACELIVE_PORT||8080)+'/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"
CMD ["node", "build/server/cli/main.js", "serve"]

FROM ${DEBIAN} AS proxy
RUN apt-get update && apt-get install -y --no-install-recommends haproxy && rm -rf /var/lib/apt/lists/*
COPY deploy/haproxy.cfg /etc/facelive/haproxy.cfg
CMD ["haproxy", "-db", "-W", "-f", "/etc/facelive/haproxy.cfg"]

FROM ${DEBIAN} AS turn
RUN apt-get update && apt-get install -y --no-install-recommends coturn && rm -rf /var/lib/apt/lists/*
COPY deploy/turnserver.conf /etc/facelive/turnserver.conf
ENTRYPOINT ["turnserver", "-c", "/etc/facelive/turnserver.conf"]
