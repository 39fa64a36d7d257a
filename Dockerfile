FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --create-home dialer
USER dialer
ENTRYPOINT []
CMD ["dialer", "--help"]
