# The image compose.yaml runs (web, workers, beat, migrate). Front-end packages come from npm (package-lock.json)
# and static files are collected at build time, so the running containers need neither node nor a writable tree.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt package.json package-lock.json ./
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt \
    && npm ci --no-audit --no-fund --loglevel=error
ENV PATH=/app/.venv/bin:$PATH VAR_DIR=/app/var DJANGO_SETTINGS_MODULE=config.settings.production
COPY . .
# collectstatic reads settings only (no database): placeholders satisfy the production profile's checks
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build.invalid DATABASE_URL=postgres://build@127.0.0.1/build \
    python manage.py collectstatic --noinput -v0
RUN useradd --system --uid 10001 app && chown -R app /app/var
USER app
EXPOSE 8000
