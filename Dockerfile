# The code is installed as root and stays read-only; the service runs as `myocit` and writes only
# to its home, MYOCIT_HOME (the embedded database and broker, the scheduler's schedule, the pages'
# secret, the metrics folder of `myocit run`), a volume owned by that user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MYOCIT_HOME=/var/lib/myocit
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -c requirements.lock . \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/myocit --shell /usr/sbin/nologin myocit \
 && mkdir -p /var/lib/myocit \
 && chown myocit:myocit /var/lib/myocit \
 && chmod 0700 /var/lib/myocit
VOLUME ["/var/lib/myocit"]
USER myocit
# 8000: the HTTP API and pages; 2575: the MLLP listener (`myocit mllp --host 0.0.0.0`).
EXPOSE 8000 2575
CMD ["myocit", "api", "--host", "0.0.0.0"]
