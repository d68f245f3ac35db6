# syntax=docker/dockerfile:1
#
# One Dockerfile for all six Slipway services. Pick the service with two build arguments:
#
#   SERVICE  the directory under services/ (gerrit-gateway, builder, tester, publisher, deployer, reporter)
#   PROJECT  the project file's name without .csproj, which is also the assembly name
#            (Slipway.GerritGateway, Slipway.Builder, Slipway.Tester, Slipway.Publisher,
#             Slipway.Deployer, Slipway.Reporter)
#
#   docker build --build-arg SERVICE=builder --build-arg PROJECT=Slipway.Builder -t slipway/builder .
#
# docker-compose.yml and the Helm chart's values name the same pairs.

ARG DOTNET_VERSION=10.0

# ---------------------------------------------------------------------------------------------------------------
# build: restore and publish the one service (framework-dependent; the runtime image carries ASP.NET Core)
# ---------------------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG SERVICE
ARG PROJECT
WORKDIR /src

# Only what a service build needs: the repo-wide MSBuild/SDK settings, the shared libraries and the services.
# (.dockerignore keeps bin/, obj/, .git, tests, bench, dev/ and the CLI out of the context.)
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY shared/ shared/
COPY services/ services/
COPY plugins/ plugins/

RUN test -n "$SERVICE" && test -n "$PROJECT" \
    || { echo "build with --build-arg SERVICE=<dir under services/> --build-arg PROJECT=<csproj name>" >&2; exit 1; }
RUN test -f "services/$SERVICE/$PROJECT.csproj" \
    || { echo "services/$SERVICE/$PROJECT.csproj does not exist" >&2; exit 1; }

# The NuGet cache survives between builds of the six images (BuildKit cache mount).
RUN --mount=type=cache,id=slipway-nuget,target=/root/.nuget/packages \
    dotnet publish "services/$SERVICE/$PROJECT.csproj" -c Release -o /app -p:UseAppHost=false

# ---------------------------------------------------------------------------------------------------------------
# runtime: ASP.NET Core runtime + the git CLI (the builder fetches revisions, the deployer commits to the
# configuration registry), openssh-client (git over ssh://), curl (container health checks)
# ---------------------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
ARG SERVICE
ARG PROJECT

RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client curl ca-certificates iptables \
    && rm -rf /var/lib/apt/lists/*

# Work directories (builder caches and logs, the deployer's config-registry clone); mount volumes here.
# /var/lib/slipway-artifacts: the run artifact directory (Artifacts:Directory), a volume shared by builder, tester, reporter.
RUN mkdir -p /var/lib/slipway /var/lib/slipway-artifacts && chown "$APP_UID" /var/lib/slipway /var/lib/slipway-artifacts

COPY --from=build /app /app

LABEL org.opencontainers.image.title="slipway-${SERVICE}" \
      org.opencontainers.image.description="Slipway ${SERVICE} service"

# SLIPWAY_ASSEMBLY: the service's entry assembly in /app, fixed at build time from PROJECT.
# ASPNETCORE_URLS: where Kestrel listens (override per deployment; every service serves /healthz, /readyz,
# /_info and /metrics there). ASPNETCORE_HTTP_PORTS is cleared so the two do not conflict.
# DOTNET_GCgen0size: a 4 MB allocation budget between young collections instead of one sized from the CPU's cache
# (about 25 MB with a 32 MB L3), which each service's peak memory carried; the runtime reads it only from the
# environment, not from runtimeconfig.json (docs/benchmarks.md, "Memory").
ENV SLIPWAY_ASSEMBLY=${PROJECT}.dll \
    SLIPWAY_SERVICE=${SERVICE} \
    ASPNETCORE_HTTP_PORTS= \
    ASPNETCORE_URLS=http://+:8080 \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_GCgen0size=0x400000

WORKDIR /app
EXPOSE 8080

# Non-root: the .NET images' "app" user (APP_UID=1654). Access to a mounted Docker socket needs the socket's
# group added at run time (compose: group_add; Kubernetes: securityContext.supplementalGroups).
USER $APP_UID

# exec form with a shell only to expand SLIPWAY_ASSEMBLY; `exec` makes dotnet PID 1 so it gets SIGTERM directly.
# Extra arguments (docker run IMAGE --Kafka:BootstrapServers=...) are passed on as configuration.
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"/app/$SLIPWAY_ASSEMBLY\" \"$@\"", "slipway"]
