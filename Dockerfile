FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY supervisor_api ./supervisor_api
COPY clickhouse ./clickhouse
COPY config ./config
RUN pip install --no-cache-dir -e .
ENV TABLERO_DATA_DIR=/var/lib/tablero
EXPOSE 8000
CMD ["tablero", "up", "--no-kafka"]
