package io.moonwalk.agent.cli;

import io.moonwalk.agent.preflight.Preflight;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.config.KubernetesAttributes;
import io.moonwalk.agent.config.LayeredDefaults;
import io.moonwalk.agent.config.OtlpSettings;
import io.moonwalk.agent.daemon.Agent;
import io.moonwalk.agent.daemon.AgentOptions;
import io.moonwalk.agent.daemon.LivenessWatchdog;
import io.moonwalk.agent.daemon.MeasuredSender;
import io.moonwalk.agent.daemon.OtlpSink;
import io.moonwalk.agent.collect.ProcessSelector;
import io.moonwalk.agent.daemon.Readiness;
import io.moonwalk.agent.daemon.StoreSink;
import io.moonwalk.agent.daemon.WindowSink;
import io.moonwalk.agent.daemon.WindowWorker;
import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.moonwalk.agent.export.otlp.OtlpExporter;
import io.moonwalk.agent.export.otlp.OtlpProfileEncoder;
import io.moonwalk.agent.export.otlp.OtlpSender;
import io.moonwalk.agent.export.otlp.RetryPolicy;
import io.moonwalk.agent.metrics.AgentMetrics;
import io.moonwalk.agent.metrics.MetricsPushSettings;
import io.moonwalk.agent.metrics.MicrometerMetricProducer;
import io.moonwalk.agent.metrics.OtlpMetricsExporter;
import io.moonwalk.agent.metrics.SdkMetricExporters;
import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.ProfileStores;
import io.moonwalk.agent.web.AgentHttpServer;
import io.moonwalk.interpreter.InterpreterPlugin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/** {@code moonwalk agent}: the continuous profiling daemon. */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Profile continuously until SIGTERM/SIGINT. With an OTLP endpoint (--otlp-endpoint or "
                + "OTEL_EXPORTER_OTLP_[PROFILES_]ENDPOINT) every window is exported as OTLP profiles; without one, "
                + "windows are kept under --store-dir and shown as flame graphs on --listen.",
                "Settings: flags > environment (MOONWALK_<FLAG>, OTEL_*) > config file (--config, default "
                        + "/etc/moonwalk/moonwalk.conf: 'key = value' lines with the long flag names) > defaults."})
public final class AgentCommand implements Callable<Integer> {
    /**
     * The runtime of Lua frames (the LuaJIT plugin's name, which its frames carry): the frame type
     * {@code --otlp-lua-frame-type} replaces. A name, not a dependency: the plugin is found at run time.
     */
    private static final String LUA_RUNTIME = "luajit";

    /** Set by {@link Main} so values from the config file can be told apart. */
    LayeredDefaults defaults;
    Map<String, String> env = System.getenv();

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Config file ('key = value' per line, keys are long flag names). "
                    + "Default: /etc/moonwalk/moonwalk.conf when it exists.")
    Path config;

    @Option(names = "--pid", split = ",", paramLabel = "PID",
            description = "Profile only these processes (kernel filter; repeatable or comma-separated).")
    List<Integer> pids = new ArrayList<>();

    @Option(names = "--exe", split = ",", paramLabel = "NAME",
            description = "Keep only processes whose executable has this base name, e.g. nginx (agent-side filter).")
    List<String> exes = new ArrayList<>();

    @Option(names = "--container", split = ",", paramLabel = "ID",
            description = "Keep only processes in this container (full id or a prefix of 12+ hex digits; agent-side).")
    List<String> containers = new ArrayList<>();

    @Option(names = "--cgroup", split = ",", paramLabel = "PATH",
            description = "Keep only processes under this cgroup v2 path, e.g. /system.slice/nginx.service (agent-side).")
    List<String> cgroups = new ArrayList<>();

    @Option(names = "--hz", paramLabel = "N", defaultValue = "19",
            description = "Samples per second per CPU (1-" + RecordCommand.MAX_HZ + "). Default: ${DEFAULT-VALUE}.")
    int hz;

    @Option(names = "--interval", paramLabel = "D", defaultValue = "5s", converter = DurationConverter.class,
            description = "Window length = export interval (at least 1s). Default: ${DEFAULT-VALUE}.")
    Duration interval;

    @Option(names = "--interval-jitter", paramLabel = "F", defaultValue = "0.1",
            description = "Each window lasts interval x (1 +- F), 0 <= F < 0.5. Default: ${DEFAULT-VALUE}.")
    double jitter;

    @Option(names = "--otlp-endpoint", paramLabel = "URL",
            description = "OTLP receiver, e.g. http://collector:4317 (grpc) or http://collector:4318/v1development/profiles "
                    + "(http/protobuf, used as given). Overrides OTEL_EXPORTER_OTLP_[PROFILES_]ENDPOINT.")
    String otlpEndpoint;

    @Option(names = "--otlp-protocol", paramLabel = "P",
            description = "grpc or http/protobuf. Overrides OTEL_EXPORTER_OTLP_[PROFILES_]PROTOCOL. Default: grpc.")
    String otlpProtocol;

    @Option(names = "--otlp-compression", paramLabel = "C",
            description = "gzip or none. Overrides OTEL_EXPORTER_OTLP_[PROFILES_]COMPRESSION. Default: none.")
    String otlpCompression;

    @Option(names = "--otlp-metrics", paramLabel = "MODE",
            description = "Push the agent's metrics over OTLP to the collector: on or off. Overrides "
                    + "OTEL_METRICS_EXPORTER (otlp|none). Default: on when an OTLP endpoint is configured.")
    String otlpMetrics;

    @Option(names = "--metrics-interval", paramLabel = "D", converter = DurationConverter.class,
            description = "Time between OTLP metrics pushes (at least 1s). Overrides OTEL_METRIC_EXPORT_INTERVAL (ms). "
                    + "Default: 30s.")
    Duration metricsInterval;

    @Option(names = "--otlp-lua-frame-type", paramLabel = "TYPE", defaultValue = "luajit",
            description = "profile.frame.type of Lua frames in OTLP profiles. 'luajit' (what the other LuaJIT "
                    + "profiler sends) is not a registered value; for a backend that rejects unknown frame types "
                    + "set a registered one, e.g. native. Default: ${DEFAULT-VALUE}.")
    String otlpLuaFrameType;

    @Option(names = "--export-queue-size", paramLabel = "SIZE", defaultValue = "16M", converter = SizeConverter.class,
            description = "Bound on encoded windows waiting for the receiver; the oldest are dropped beyond it. "
                    + "Default: ${DEFAULT-VALUE}.")
    long exportQueueBytes;

    @Option(names = "--store", paramLabel = "MODE", defaultValue = "auto",
            description = "Local store: auto (only without an OTLP endpoint), on, off. Default: ${DEFAULT-VALUE}.")
    String storeMode;

    @Option(names = "--store-dir", paramLabel = "DIR", defaultValue = "/var/lib/moonwalk",
            description = "Directory of the local store. Default: ${DEFAULT-VALUE}.")
    Path storeDir;

    @Option(names = "--store-max-size", paramLabel = "SIZE", defaultValue = "1G", converter = SizeConverter.class,
            description = "The store deletes its oldest windows beyond this size. Default: ${DEFAULT-VALUE}.")
    long storeMaxBytes;

    @Option(names = "--store-max-age", paramLabel = "D", defaultValue = "24h", converter = DurationConverter.class,
            description = "The store deletes windows older than this. Default: ${DEFAULT-VALUE}.")
    Duration storeMaxAge;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7070",
            description = "Address of /metrics, /healthz, /readyz and the store's web view; 'off' disables. "
                    + "Default: ${DEFAULT-VALUE}.")
    String listen;

    @Mixin
    EventProfileOptions events = new EventProfileOptions();

    @Option(names = "--shutdown-timeout", paramLabel = "D", defaultValue = "5s", converter = DurationConverter.class,
            description = "Bound on delivering the last window at SIGTERM. Default: ${DEFAULT-VALUE}.")
    Duration shutdownTimeout;

    @Override
    public Integer call() throws Exception {
        if (hz < 1 || hz > RecordCommand.MAX_HZ) {
            throw new UsageProblem("--hz " + hz + " is out of range: use 1 to " + RecordCommand.MAX_HZ);
        }
        if (interval.toMillis() < 1000) {
            throw new UsageProblem("--interval " + RecordCommand.format(interval) + " is too short: use 1s or more");
        }
        if (!(jitter >= 0 && jitter < 0.5)) {
            throw new UsageProblem("--interval-jitter " + jitter + " is out of range: use 0 to 0.49");
        }
        if (!OtlpProfileEncoder.FRAME_TYPE_VALUE.matcher(otlpLuaFrameType).matches()) {
            throw new UsageProblem("--otlp-lua-frame-type '" + otlpLuaFrameType + "' is not a frame type: use a "
                    + "lower-case value such as luajit or native");
        }
        for (int pid : pids) {
            if (pid <= 0 || !Files.isDirectory(Path.of("/proc/" + pid))) {
                throw new UsageProblem("no such process: " + pid);
            }
        }
        for (String c : containers) {
            if (!c.matches("[0-9a-f]{12,64}")) {
                throw new UsageProblem("--container " + c + " is not a container id (12 to 64 lowercase hex digits)");
            }
        }
        events.validate();
        long offCpuMinNanos = events.offCpuMinNanos();
        long mmapIntervalNanos = events.mmapIntervalNanos();
        if (!List.of("auto", "on", "off").contains(storeMode)) {
            throw new UsageProblem("--store " + storeMode + " is not one of auto, on, off");
        }
        InetSocketAddress listenAddress = listen.equals("off") ? null : parseListen(listen);

        OtlpSettings otlp = otlpSettings();
        OtlpConfig otlpConfig = null;
        if (otlp.endpointConfigured()) {
            try {
                otlpConfig = OtlpConfig.fromEnvironment(otlp.variables());
            } catch (IllegalArgumentException e) {
                throw new UsageProblem(e.getMessage());
            }
        }
        MetricsPushSettings push;
        OtlpConfig metricsConfig = null;
        try {
            push = MetricsPushSettings.resolve(
                    new MetricsPushSettings.Option<>(otlpMetrics, fromFile("--otlp-metrics")),
                    new MetricsPushSettings.Option<>(metricsInterval, fromFile("--metrics-interval")), env,
                    otlp.endpointConfigured() || !env.getOrDefault("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "").isBlank());
            if (push.enabled()) {
                metricsConfig = OtlpConfig.fromEnvironment(otlp.variables(), OtlpConfig.Signal.METRICS);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageProblem(e.getMessage());
        }
        boolean storing = storeMode.equals("on") || (storeMode.equals("auto") && otlpConfig == null);
        if (otlpConfig == null && !storing) {
            throw new UsageProblem("--store off needs an OTLP endpoint (--otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT): "
                    + "otherwise the profiles would go nowhere");
        }
        Preflight.requireProfiling();

        long startEpochNanos = System.currentTimeMillis() * 1_000_000L;
        AgentMetrics metrics = new AgentMetrics();
        List<WindowSink> sinks = new ArrayList<>();
        AtomicReference<Agent> agentRef = new AtomicReference<>();
        ProfileStores stores = null;
        if (storing) {
            Set<ProfileKind> kinds = EnumSet.of(ProfileKind.CPU);
            if (offCpuMinNanos > 0) {
                kinds.add(ProfileKind.OFF_CPU);
            }
            if (mmapIntervalNanos > 0) {
                kinds.add(ProfileKind.MMAP);
            }
            try {
                // each event profile's store gets a quarter of the bound, the CPU store the rest: together within it
                stores = ProfileStores.open(storeDir, storeMaxBytes, storeMaxAge, Clock.systemUTC(), kinds);
            } catch (IOException e) {
                throw new UsageProblem("cannot use --store-dir " + storeDir + ": " + e.getMessage());
            }
            // the agent is built below; the sink asks it for the VMs' health at each window
            sinks.add(new StoreSink(stores, () -> {
                Agent a = agentRef.get();
                return a == null ? SessionStats.NONE : a.stats();
            }));
            metrics.bindStores(stores);
        }
        if (otlpConfig != null) {
            MeasuredSender sender = new MeasuredSender(OtlpSender.create(otlpConfig));
            Map<String, String> resource = new LinkedHashMap<>(KubernetesAttributes.from(env));
            resource.putAll(otlpConfig.resourceAttributes());
            OtlpProfileEncoder encoder = new OtlpProfileEncoder(hostName(), resource, version(),
                    Map.of(LUA_RUNTIME, otlpLuaFrameType), integerLabels());
            OtlpExporter exporter = new OtlpExporter(sender, encoder, exportQueueBytes, RetryPolicy.DEFAULT);
            sinks.add(new OtlpSink(exporter, sender, otlpConfig.endpoint().toString()));
            metrics.bindExporter(exporter, sender);
        }

        WindowWorker worker = new WindowWorker(sinks, metrics::recordWindow);
        AgentOptions options = new AgentOptions(hz, new LinkedHashSet<>(pids),
                new ProcessSelector(new LinkedHashSet<>(exes), new LinkedHashSet<>(containers), cgroups),
                interval, jitter, SamplerOptions.DEFAULT_RING_BUFFER_BYTES, shutdownTimeout, offCpuMinNanos,
                mmapIntervalNanos);
        Agent agent = new Agent(options, worker);
        agentRef.set(agent);
        metrics.bindAgent(agent);
        Readiness readiness = new Readiness(agent);
        OtlpMetricsExporter metricsPush = null;
        if (metricsConfig != null) {
            Map<String, String> resource = new LinkedHashMap<>(KubernetesAttributes.from(env));
            resource.putAll(metricsConfig.resourceAttributes());
            resource.putIfAbsent("service.name", "moonwalk");
            resource.put("host.name", hostName());
            metricsPush = new OtlpMetricsExporter(metrics.registry(),
                    new MicrometerMetricProducer(metrics.registry(), version(), startEpochNanos, Clock.systemUTC()),
                    SdkMetricExporters.create(metricsConfig), push.interval(), metricsConfig.endpoint().toString(),
                    metricsConfig.timeout(), resource);
        }

        LivenessWatchdog.start(readiness);
        AgentHttpServer http = null;
        if (listenAddress != null) {
            http = new AgentHttpServer(listenAddress, metrics, readiness::check, readiness::live, stores,
                    Clock.systemUTC());
            http.start();
        }
        Signal.handle(new Signal("INT"), sig -> agent.requestStop());
        Signal.handle(new Signal("TERM"), sig -> agent.requestStop());
        Runtime.getRuntime().addShutdownHook(new Thread(agent::detachNow, "moonwalk-detach"));
        ProfileStores finalStores = stores;
        AgentHttpServer finalHttp = http;
        String where = (otlpConfig != null ? "exporting OTLP (" + otlpConfig.protocol().envValue() + ") to "
                + otlpConfig.endpoint() : "") + (otlpConfig != null && storing ? " and " : "")
                + (storing ? "storing windows in " + finalStores.cpu().directory() : "")
                + (metricsConfig != null ? "; pushing metrics (" + metricsConfig.protocol().envValue() + ") every "
                + RecordCommand.format(push.interval()) + " to " + metricsConfig.endpoint() : "");
        try {
            agent.run(() -> System.err.printf("moonwalk: agent sampling %s at %d Hz%s, %s windows; %s%s%n",
                    pids.isEmpty() ? "the whole host" : "pid " + pids, hz,
                    events.startupText(),
                    RecordCommand.format(interval), where,
                    finalHttp == null ? "" : "; http://" + finalHttp.address().getHostString() + ":"
                            + finalHttp.address().getPort() + "/"));
        } finally {
            if (metricsPush != null) {
                metricsPush.close();
            }
            if (http != null) {
                http.close();
            }
        }
        System.err.printf("moonwalk: agent stopped after %d windows (%d samples)%n", agent.stats().windowsClosed(),
                agent.stats().samples());
        return 0;
    }

    private OtlpSettings otlpSettings() {
        Map<String, String> high = new HashMap<>();
        Map<String, String> low = new HashMap<>();
        put("--otlp-endpoint", "ENDPOINT", otlpEndpoint, high, low);
        put("--otlp-protocol", "PROTOCOL", otlpProtocol, high, low);
        put("--otlp-compression", "COMPRESSION", otlpCompression, high, low);
        return OtlpSettings.merge(env, high, low);
    }

    private boolean fromFile(String option) {
        return !spec.commandLine().getParseResult().hasMatchedOption(option) && defaults != null
                && defaults.fromFile(option);
    }

    private void put(String option, String suffix, String value, Map<String, String> high, Map<String, String> low) {
        if (value == null) {
            return;
        }
        boolean onCommandLine = spec.commandLine().getParseResult().hasMatchedOption(option);
        if (!onCommandLine && defaults != null && defaults.fromFile(option)) {
            low.put(suffix, value);
        } else {
            high.put(suffix, value);
        }
    }

    static InetSocketAddress parseListen(String s) {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new UsageProblem("--listen " + s + " must be HOST:PORT, e.g. 127.0.0.1:7070, or off");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageProblem("--listen " + s + ": port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new UsageProblem("--listen " + s + ": port out of range");
        }
        return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, port);
    }

    /**
     * The node's name: in Kubernetes the pod's hostname is the pod name, so the downward API's node name
     * (K8S_NODE_NAME or NODE_NAME, from spec.nodeName) wins over the kernel's hostname.
     */
    String hostName() {
        for (String var : List.of("K8S_NODE_NAME", "NODE_NAME")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                return v.trim();
            }
        }
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            String h = env.get("HOSTNAME");
            return h == null ? "" : h;
        }
    }

    /** The sample labels with integer values, as the installed interpreter plugins declare them. */
    private static Set<String> integerLabels() {
        Set<String> keys = new LinkedHashSet<>();
        for (InterpreterPlugin p : InterpreterPlugin.installed()) {
            keys.addAll(p.integerLabels());
        }
        return keys;
    }

    private static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
