# Multi-stage build: wheels in the first stage, a slim non-root runtime in the second.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dlp_gateway ./dlp_gateway
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10025 --home-dir /srv/dlp dlp && mkdir -p /srv/dlp/var && chown dlp /srv/dlp/var
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /srv/dlp
COPY rules ./rules
USER dlp
VOLUME ["/srv/dlp/var"]
EXPOSE 10025
EXPOSE 8025 9125
# Ready = the quarantine answers and the upstream (or outbox) takes mail: /readyz (metrics port).
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9125/readyz', timeout=4)"
ENTRYPOINT ["dlp-gateway"]
CMD ["serve", "--config", "rules/"]
