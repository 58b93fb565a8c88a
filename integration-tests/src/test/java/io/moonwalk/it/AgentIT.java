package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.export.otlp.OtlpValidator;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code moonwalk agent} from the built jar against real receivers and a real LuaJIT workload. */
class AgentIT {
    static final String LUA_LOOP = "local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end "
            + "while true do fib(27) end";
    static Process luajit;

    @BeforeAll
    static void workload() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        luajit = new ProcessBuilder("luajit", "-joff", "-e", LUA_LOOP).start();
        Thread.sleep(300);
        assertThat(luajit.isAlive()).as("luajit workload runs").isTrue();
    }

    @AfterAll
    static void stopWorkload() throws Exception {
        luajit.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    @Test
    void exportsValidProfilesOverGrpcAndHttpMatchingRecordAndDetachesOnSigterm() throws Exception {
        long pid = luajit.pid();
        Path folded = Moonwalk.WORK.resolve("agent-record-" + pid + ".folded");
        Moonwalk.Result rec = Moonwalk.run(Duration.ofSeconds(60), "record", "--pid", String.valueOf(pid), "--hz", "99",
                "--duration", "5s", "--output", folded.toString());
        assertThat(rec.exitCode()).as(rec.stderr()).isZero();
        Map<String, Long> recorded = new HashMap<>();
        for (Folded.Line l : Folded.read(folded).lines()) {
            recorded.merge(String.join(";", l.frames().subList(1, l.frames().size())), l.count(), Long::sum);
        }

        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            receiver.startHttp();
            Map<String, String> env = Map.of("OTEL_SERVICE_NAME", "lua-demo", "K8S_NODE_NAME", "node-a",
                    "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=it",
                    "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
            for (String transport : List.of("grpc", "http")) {
                Map<String, String> e = new HashMap<>(env);
                String[] args;
                if (transport.equals("grpc")) {
                    e.put("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint());
                    args = new String[] {"--pid", String.valueOf(pid), "--hz", "99", "--interval", "1s"};
                } else {
                    // the profiles-specific variable is used as given; the protocol comes from the flag
                    e.put("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", receiver.httpEndpoint());
                    args = new String[] {"--exe", "luajit", "--hz", "99", "--interval", "1s", "--otlp-protocol",
                            "http/protobuf"};
                }
                int before = receiver.received.size();
                try (RunningAgent agent = RunningAgent.start(e, args)) {
                    Set<Integer> programs = agent.programIds();
                    assertThat(programs).as("mw_ programs while running").hasSizeGreaterThanOrEqualTo(2);
                    // JVM warm-up (class loading, first kernel-symbol load) makes the first windows slow
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (receiver.received.size() < before + 2 && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                    Thread.sleep(4000);
                    int beforeTerm = receiver.received.size();
                    long killed = System.nanoTime();
                    long exitMillis = agent.terminate();
                    List<ProfilesReceiver.Received> after = receiver.received.subList(beforeTerm, receiver.received.size());
                    assertThat(after).as("the last window is exported after SIGTERM").isNotEmpty();
                    long lastMillis = TimeUnit.NANOSECONDS.toMillis(after.getLast().arrivalNanos() - killed);
                    System.out.printf("agent %s: SIGTERM -> last window received after %d ms, exit after %d ms%n",
                            transport, lastMillis, exitMillis);
                    assertThat(lastMillis).isLessThan(5000);
                    assertThat(agent.stderr()).contains("agent stopped");
                    RecordIT.assertGone(programs);
                }
                List<ExportProfilesServiceRequest> mine = receiver.received.subList(before, receiver.received.size())
                        .stream().filter(r -> r.transport().equals(transport)).map(ProfilesReceiver.Received::request)
                        .toList();
                assertThat(mine.size()).as(transport + " requests").isGreaterThanOrEqualTo(5);
                checkRequests(mine, pid, transport);
                checkFrameFields(mine, pid, transport);
                compareWithRecord(OtlpStacks.stacksOf(mine, pid), recorded, transport);
            }
        }
    }

    private static void checkRequests(List<ExportProfilesServiceRequest> requests, long pid, String transport) {
        long samples = 0;
        List<Long> steadyDurations = new java.util.ArrayList<>();
        for (int r = 0; r < requests.size(); r++) {
            ExportProfilesServiceRequest req = requests.get(r);
            // every window lasts 1 s +-10 %, except the last one, cut short by SIGTERM, and the first
            // two, stretched by JVM warm-up (class loading, the first kernel-symbol load). On a loaded
            // machine a single window can stretch further; the median is checked below.
            boolean steady = r > 1 && r < requests.size() - 1;
            long minDuration = steady ? 850_000_000L : 1;
            long maxDuration = steady ? 3_000_000_000L : 6_000_000_000L;
            if (steady) {
                steadyDurations.add(req.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0).getDurationNano());
            }
            assertThat(OtlpValidator.validate(req)).as("validator on a " + transport + " request").isEmpty();
            ProfilesDictionary d = req.getDictionary();
            for (ResourceProfiles rp : req.getResourceProfilesList()) {
                Map<String, AnyValue> res = OtlpStacks.resource(rp);
                assertThat(res.get("process.executable.name").getStringValue()).isEqualTo("luajit");
                assertThat(res.get("service.name").getStringValue()).isEqualTo("lua-demo");
                if (res.get("process.pid").getIntValue() != pid) {
                    // --exe luajit (the http round) also selects luajit processes of other tests on the machine
                    assertThat(transport).as("a process other than --pid " + pid).isEqualTo("http");
                    continue;
                }
                assertThat(res.get("process.executable.path").getStringValue()).startsWith("/").contains("luajit");
                assertThat(res.get("host.name").getStringValue()).isNotEmpty();
                assertThat(res.get("k8s.node.name").getStringValue()).isEqualTo("node-a");
                assertThat(res.get("deployment.environment").getStringValue()).isEqualTo("it");
                for (var sp : rp.getScopeProfilesList()) {
                    assertThat(sp.getScope().getName()).isEqualTo("moonwalk");
                    for (var p : sp.getProfilesList()) {
                        assertThat(d.getStringTable(p.getSampleType().getTypeStrindex())).isEqualTo("samples");
                        assertThat(d.getStringTable(p.getSampleType().getUnitStrindex())).isEqualTo("count");
                        assertThat(d.getStringTable(p.getPeriodType().getTypeStrindex())).isEqualTo("cpu");
                        assertThat(d.getStringTable(p.getPeriodType().getUnitStrindex())).isEqualTo("nanoseconds");
                        assertThat(p.getPeriod()).isEqualTo(1_000_000_000L / 99);
                        assertThat(p.getDurationNano()).isBetween(minDuration, maxDuration);
                        for (Sample s : p.getSamplesList()) {
                            assertThat(OtlpStacks.sampleAttributes(d, s)).containsEntry("thread.name", "luajit");
                            samples += s.getValuesList().stream().mapToLong(Long::longValue).sum();
                        }
                    }
                }
            }
            Set<String> types = new HashSet<>();
            for (var l : d.getLocationTableList().subList(1, d.getLocationTableCount())) {
                types.add(OtlpStacks.frameType(d, l));
            }
            assertThat(types).isSubsetOf("native", "kernel", "luajit", "abort-marker");
        }
        System.out.printf("agent %s: %d requests, %d samples of pid %d, validator clean, steady window durations %s%n",
                transport, requests.size(), samples, pid, steadyDurations);
        if (!steadyDurations.isEmpty()) {
            List<Long> sorted = steadyDurations.stream().sorted().toList();
            assertThat(sorted.get(sorted.size() / 2)).as("median steady window (1 s +-10 %)")
                    .isBetween(850_000_000L, 1_250_000_000L);
        }
    }

    /** A location of the Lua function fib at line 1 (the chunk's only line), as the protos carry it. */
    private static boolean isFibAtLine1(ProfilesDictionary d, Location l) {
        return l.getLinesCount() == 1 && l.getLines(0).getLine() == 1
                && d.getStringTable(d.getFunctionTable(l.getLines(0).getFunctionIndex()).getNameStrindex()).equals("fib");
    }

    /**
     * What a backend needs from the frames, checked against ground truth outside our code: the Lua function
     * {@code fib} of the {@code -e} chunk as function + file + start line + line; native locations with their
     * address inside a mapping whose range and offset are the process's own (/proc/PID/maps) and whose build id is
     * the executable's (readelf); and protoc, with the official protos, decodes a received request to the same.
     */
    private static void checkFrameFields(List<ExportProfilesServiceRequest> requests, long pid, String transport)
            throws Exception {
        String maps = Files.readString(Path.of("/proc/" + pid + "/maps"));
        String exe = Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString();
        Moonwalk.Result readelf = Moonwalk.run(new ProcessBuilder("readelf", "-n", exe), Duration.ofSeconds(20));
        String buildId = readelf.stdout().lines().filter(l -> l.contains("Build ID:"))
                .map(l -> l.substring(l.indexOf("Build ID:") + 9).trim()).findFirst().orElseThrow();
        int fibs = 0;
        int natives = 0;
        boolean exeMapping = false;
        for (ExportProfilesServiceRequest req : requests) {
            ProfilesDictionary d = req.getDictionary();
            // only the locations of this pid's samples: the dictionary is shared with other selected processes
            for (int li : OtlpStacks.locationsOf(req, pid)) {
                var f = OtlpStacks.frame(d, d.getLocationTable(li));
                if (f.kind() == io.moonwalk.frame.FrameKind.INTERPRETED && f.function().equals("fib")) {
                    assertThat(f.file()).isEqualTo("(command line)");
                    assertThat(f.startLine()).isEqualTo(1);
                    // the whole chunk is line 1; a frame whose bytecode position was not sampled has no line (0)
                    assertThat(f.line()).isIn(0, 1);
                    fibs += f.line() == 1 ? 1 : 0;
                }
                if (f.kind() == io.moonwalk.frame.FrameKind.NATIVE && !f.mapping().isNone()) {
                    natives++;
                    var m = f.mapping();
                    assertThat(Long.compareUnsigned(f.address(), m.start()) >= 0
                            && Long.compareUnsigned(f.address(), m.limit()) < 0)
                            .as("address %x in its mapping %s", f.address(), m).isTrue();
                    if (m.file().startsWith("/")) {
                        assertThat(maps).as("mapping %s is one of /proc/%d/maps", m, pid)
                                .containsPattern("(?m)^" + Long.toHexString(m.start()) + "-" + Long.toHexString(m.limit())
                                        + " r-xp 0*" + Long.toHexString(m.offset()) + " .* " + java.util.regex.Pattern.quote(m.file()) + "$");
                    }
                    if (m.file().equals(exe)) {
                        assertThat(m.gnuBuildId()).as("build id of %s", exe).isEqualTo(buildId);
                        exeMapping = true;
                    }
                }
            }
        }
        System.out.printf("agent %s: %d fib locations (file, start line, line checked), %d native locations in "
                + "their /proc/PID/maps mappings, executable build id %s%n", transport, fibs, natives, buildId);
        assertThat(fibs).as("fib locations").isPositive();
        assertThat(natives).as("native locations").isPositive();
        assertThat(exeMapping).as("a location in the executable's mapping").isTrue();

        // protoc decodes a received request with the upstream protos (shipped in the opentelemetry-proto jar)
        Path dir = Files.createTempDirectory("mw-protoc");
        try {
            String[] protos = {"opentelemetry/proto/common/v1/common.proto",
                    "opentelemetry/proto/resource/v1/resource.proto",
                    "opentelemetry/proto/profiles/v1development/profiles.proto",
                    "opentelemetry/proto/collector/profiles/v1development/profiles_service.proto"};
            for (String proto : protos) {
                try (var in = ExportProfilesServiceRequest.class.getClassLoader().getResourceAsStream(proto)) {
                    assertThat(in).as("%s in the opentelemetry-proto jar", proto).isNotNull();
                    Files.createDirectories(dir.resolve(proto).getParent());
                    Files.copy(in, dir.resolve(proto));
                }
            }
            // the newest request holding a fib location with its line (a window cut short may hold only fib
            // frames whose bytecode position was not sampled, line 0)
            ExportProfilesServiceRequest last = requests.reversed().stream()
                    .filter(r -> r.getDictionary().getLocationTableList().stream()
                            .anyMatch(l -> isFibAtLine1(r.getDictionary(), l)))
                    .findFirst().orElseThrow();
            Path bin = dir.resolve("req.bin");
            Files.write(bin, last.toByteArray());
            Moonwalk.Result protoc = Moonwalk.run(new ProcessBuilder("protoc", "-I", dir.toString(),
                    "--decode=opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest",
                    protos[3]).redirectInput(bin.toFile()), Duration.ofSeconds(30));
            assertThat(protoc.exitCode()).as(protoc.stderr()).isZero();
            var back = ExportProfilesServiceRequest.newBuilder();
            com.google.protobuf.TextFormat.merge(protoc.stdout(), back);
            assertThat(back.build()).isEqualTo(last);
            ProfilesDictionary d = back.getDictionary();
            var fib = d.getLocationTableList().stream().filter(l -> isFibAtLine1(d, l)).findFirst().orElseThrow();
            var fn = d.getFunctionTable(fib.getLines(0).getFunctionIndex());
            System.out.printf("agent %s: protoc decoded fib as function_table[%d] { name: \"%s\" filename: \"%s\" "
                            + "start_line: %d } line: %d%n", transport, fib.getLines(0).getFunctionIndex(),
                    d.getStringTable(fn.getNameStrindex()), d.getStringTable(fn.getFilenameStrindex()),
                    fn.getStartLine(), fib.getLines(0).getLine());
            assertThat(d.getStringTable(fn.getFilenameStrindex())).isEqualTo("(command line)");
            assertThat(fn.getStartLine()).isEqualTo(1);
            assertThat(fib.getLines(0).getLine()).isEqualTo(1);
            assertThat(protoc.stdout()).contains("memory_start: ", "memory_limit: ", "address: ",
                    "\"process.executable.build_id.gnu\"", "\"" + buildId + "\"");
        } finally {
            delete(dir);
        }
    }

    /** The workload's hottest frames must be the same in the agent's export and in record's output. */
    private static void compareWithRecord(Map<String, Long> exported, Map<String, Long> recorded, String transport) {
        Map<String, Long> a = inclusive(exported);
        Map<String, Long> b = inclusive(recorded);
        String topA = a.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        String topB = b.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        long totalA = exported.values().stream().mapToLong(Long::longValue).sum();
        long shared = exported.entrySet().stream().filter(e -> recorded.containsKey(e.getKey()))
                .mapToLong(Map.Entry::getValue).sum();
        String topStackA = exported.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        String topStackB = recorded.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        System.out.printf("agent %s vs record: hottest frame '%s' (%.0f%%) vs '%s' (%.0f%%); top stack same: %s; "
                        + "%.0f%% of exported samples have a stack record also saw%n", transport,
                topA, 100.0 * a.get(topA) / totalA, topB,
                100.0 * b.get(topB) / recorded.values().stream().mapToLong(Long::longValue).sum(),
                topStackA.equals(topStackB), 100.0 * shared / totalA);
        assertThat(topA).as("hottest frame of the agent's export equals record's").isEqualTo(topB);
        assertThat(100.0 * shared / totalA).as("exported samples whose exact stack record also produced").isGreaterThan(30);
    }

    /** Samples per frame name, counting each frame once per stack. */
    private static Map<String, Long> inclusive(Map<String, Long> stacks) {
        Map<String, Long> out = new TreeMap<>();
        for (var e : stacks.entrySet()) {
            for (String f : new HashSet<>(List.of(e.getKey().split(";")))) {
                out.merge(f, e.getValue(), Long::sum);
            }
        }
        return out;
    }

    static void delete(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
