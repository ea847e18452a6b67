# Build stage: a release build of the kolab executable.
FROM swift:6.3-bookworm AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product kolab && bin="$(swift build -c release --show-bin-path)" \
    && cp "$bin/kolab" /kolab && cp -r "$bin/kolab_KolabAPI.resources" /kolab_KolabAPI.resources

# Runtime stage: the binary and its resource bundle, plus the files it reads (migrations, fixtures, the API document).
FROM swift:6.3-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home kolab
WORKDIR /app
COPY --from=build /kolab /usr/local/bin/kolab
# The web console's templates, strings and stylesheet: a resource bundle found beside the executable.
COPY --from=build /kolab_KolabAPI.resources /usr/local/bin/kolab_KolabAPI.resources
COPY sql ./sql
COPY fixtures ./fixtures
COPY openapi.json ./openapi.json
ENV KOLAB_HOME=/app
USER kolab
EXPOSE 8080
CMD ["kolab", "serve", "--hostname", "0.0.0.0", "--port", "8080"]
