# The application image: web (gunicorn), Celery worker and Celery beat all run from it; see
# docker-compose.yml. Dependencies are pinned by constraints.txt, as in scripts/install.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    VAR_DIR=/app/var

WORKDIR /app
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app

# Dependencies first, in their own layer: it is rebuilt only when these files change.
# (pyproject.toml installs no packages of its own; the code is copied below.)
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt .

COPY . .
# Static files are collected (hashed and compressed, served by whitenoise) at build time, so
# every container serves the same files. The key only lets settings load; it is not used.
RUN SECRET_KEY=collectstatic-at-build-time-only DEBUG=false \
        python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /data/media /data/outbox /data/beat \
    && chown -R app:app /app/var /data

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
