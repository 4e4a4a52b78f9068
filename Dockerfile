FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -c requirements.lock .
RUN useradd --create-home myocit
USER myocit
EXPOSE 8000
CMD ["myocit", "api", "--host", "0.0.0.0"]
