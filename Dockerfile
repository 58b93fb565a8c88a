# moonwalk agent image: a jlink-ed Java runtime holding only the modules the agent uses, the agent jar
# (with the BPF object inside), libbpf, and `moonwalk` as entrypoint (`moonwalk agent` by default).
#
#   docker build -t moonwalk:0.1.0 .                 # public base images
#   scripts/image                                    # here: podman, bases made from Debian packages
#
# Run it (capabilities and why: README, "Run in a container"):
#   docker run --rm --pid=host --cap-drop=ALL --cap-add=BPF --cap-add=PERFMON --cap-add=SYS_PTRACE \
#     --cap-add=DAC_READ_SEARCH --cap-add=CHECKPOINT_RESTORE --cap-add=SYSLOG --security-opt seccomp=unconfined \
#     -v /sys/kernel/tracing:/sys/kernel/tracing:ro -v "$PWD:/out" moonwalk:0.1.0 record --duration 30s --output /out/profile.html
#
# Build arguments: the base images (defaults are the public images a user pulls), and the labels.
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
ARG JDK_IMAGE=docker.io/library/eclipse-temurin:25-jdk

FROM ${JDK_IMAGE} AS jdk

# ---- build: the BPF object (clang, bpftool, the build host's kernel BTF) and the shaded jar, with the wrapper
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev gcc make binutils libc6-dev curl ca-certificates unzip \
 && rm -rf /var/lib/apt/lists/*
COPY --from=jdk /opt/java/openjdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk PATH=/opt/java/openjdk/bin:$PATH
WORKDIR /src
# Sources (.dockerignore leaves out build outputs and VCS data); the cache mount keeps Maven's downloads.
COPY . .
# extra-ca (optional build secret): a CA bundle for networks that intercept TLS (curl in the wrapper uses it).
RUN --mount=type=cache,target=/root/.m2 --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then export CURL_CA_BUNDLE=/run/secrets/extra-ca; fi \
 && ./mvnw -B -ntp -pl agent -am package -Dmaven.test.skip=true \
 && cp agent/target/moonwalk.jar /moonwalk.jar
# Only the modules the agent references, found by jdeps on the shaded jar. (TLS to the collector needs no
# extra module: the EC provider is part of java.base since JDK 22.)
RUN jdeps --multi-release 25 --ignore-missing-deps --print-module-deps /moonwalk.jar >/modules \
 && echo "modules: $(cat /modules)" \
 && jlink --add-modules "$(cat /modules)" --strip-debug --no-man-pages --no-header-files \
      --compress zip-6 --output /runtime

# ---- runtime
FROM ${DEBIAN_IMAGE}
ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=unknown
ARG SOURCE=https://github.com/moonwalk/moonwalk
LABEL org.opencontainers.image.title="moonwalk" \
      org.opencontainers.image.description="Continuous CPU profiler for LuaJIT hosts (eBPF + Java agent)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libbpf1 libelf1 zlib1g \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/*.log /usr/share/doc/* /usr/share/man/*
COPY --from=build /runtime /opt/moonwalk/runtime
COPY --from=build /moonwalk.jar /opt/moonwalk/moonwalk.jar
COPY deploy/jvm.options /opt/moonwalk/jvm.options
COPY deploy/container/moonwalk /usr/bin/moonwalk
# The local store (agent --store on) and record outputs: a volume, so a read-only root works.
VOLUME ["/var/lib/moonwalk"]
EXPOSE 7070
ENTRYPOINT ["/usr/bin/moonwalk"]
CMD ["agent"]
