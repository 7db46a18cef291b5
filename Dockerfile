FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CONTACTCENTRE_VAR_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contactcentre ./contactcentre
COPY routing ./routing
COPY knowledge ./knowledge
COPY api ./api
COPY frontend ./frontend
COPY manage.py ./
RUN pip install --no-cache-dir . && useradd --system --home /app app && mkdir -p /data && chown app /data \
    && CONTACTCENTRE_ENV=development python manage.py collectstatic --noinput
USER app
EXPOSE 8000 2525
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "contactcentre.asgi:application"]
