# The platform on the official Airflow image: the project's pinned dependencies plus the package.
FROM apache/airflow:3.3.2-python3.11

USER airflow
COPY --chown=airflow:root requirements.lock pyproject.toml README.md /opt/opcc/
COPY --chown=airflow:root ingest /opt/opcc/ingest
# The image already carries Airflow; the lock pins the same versions, so this adds dbt, GX and the readers.
RUN pip install --no-cache-dir -r /opt/opcc/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/opcc
ENV PYTHONPATH=/opt/opcc
WORKDIR /opt/opcc
