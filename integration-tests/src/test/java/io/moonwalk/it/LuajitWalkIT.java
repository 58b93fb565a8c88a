package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The in-kernel LuaJIT interpreter walk end to end: {@code moonwalk record --pid} on real LuaJIT processes of
 * three builds, judged against LuaJIT's own profiler ({@code jit.p}) running inside the same process at the same
 * time, and against the workloads' known call structure.
 */
class LuajitWalkIT {
    private static final Path FIXTURES = Path.of(System.getProperty("moonwalk.luajit.fixtures",
            "/var/cache/moonwalk-fixtures/luajit"));
    private static final Path UPSTREAM_LIB = FIXTURES.resolve("upstream-deb/usr/lib/x86_64-linux-gnu");
    private static final String ERROR = "[unwind error";
    /** A Lua frame label: {@code name (chunk:line)} */
    private static final Pattern LUA = Pattern.compile("^(.+) \\(([^()]*)\\)$");

    @BeforeAll
    static void root() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    /** How to start one LuaJIT variant. */
    record Variant(String name, List<String> command, Map<String, String> env) {
    }

    static Variant variant(String name) {
        return switch (name) {
            case "luajit2" -> new Variant(name, List.of("luajit"), Map.of());
            case "upstream" -> new Variant(name, List.of(FIXTURES.resolve("upstream-deb/usr/bin/luajit").toString()),
                    Map.of("LD_LIBRARY_PATH", UPSTREAM_LIB.toString()));
            case "nogc64" -> {
                Path src = FIXTURES.resolve("build/upstream-nogc64/src");
                yield new Variant(name, List.of(src.resolve("luajit").toString()),
                        Map.of("LUA_PATH", src + "/?.lua;;"));
            }
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Process start(Variant v, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(v.command());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(Moonwalk.WORK.resolve(v.name() + "-lua.log").toFile());
        pb.environment().putAll(v.env());
        Files.createDirectories(Moonwalk.WORK);
        return pb.start();
    }

    static Folded record(Process p, String name, int hz, int seconds) throws Exception {
        Path folded = Files.createTempFile(Moonwalk.WORK, name, ".folded");
        Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(seconds + 60), "record", "--pid", String.valueOf(p.pid()),
                "--hz", String.valueOf(hz), "--duration", seconds + "s", "--output", folded.toString());
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        System.out.print(r.stderr());
        return Folded.read(folded);
    }

    /** Frames after the process name, root first. */
    static List<String> frames(Folded.Line l) {
        return l.frames().subList(1, l.frames().size());
    }

    static boolean isLua(String frame) {
        return LUA.matcher(frame).matches();
    }

    /**
     * The function name as jit.p's "f" mode prints it: the name from the caller, or {@code chunk:line} of the
     * definition when there is none ({@code function <chunk:line>}); chunk names reduced to their base name.
     */
    private static String jitpName(String luaFrame) {
        Matcher m = LUA.matcher(luaFrame);
        if (!m.matches()) {
            return null;
        }
        String name = m.group(1);
        if (name.startsWith("function <") && name.endsWith(">")) {
            name = name.substring("function <".length(), name.length() - 1);
            int slash = name.lastIndexOf('/');
            return slash >= 0 ? name.substring(slash + 1) : name;
        }
        return name;
    }

    /** Complete: the bottom Lua frame (the main chunk) is reached, the native walk reaches main, no error. */
    static boolean complete(Folded.Line l) {
        List<String> f = frames(l);
        int main = f.indexOf("main");
        boolean mainChunk = f.stream().anyMatch(x -> x.startsWith("main chunk ("));
        return main >= 0 && main < f.size() - 1 && mainChunk && f.stream().noneMatch(x -> x.startsWith(ERROR));
    }

    /** Percent per innermost Lua function, in jit.p's naming. */
    static Map<String, Double> leafLuaShares(Folded p) {
        Map<String, Long> counts = new TreeMap<>();
        long total = 0;
        for (Folded.Line l : p.lines()) {
            List<String> f = frames(l);
            String leaf = null;
            for (int i = f.size() - 1; i >= 0 && leaf == null; i--) {
                if (isLua(f.get(i))) {
                    leaf = jitpName(f.get(i));
                }
            }
            if (leaf != null) {
                counts.merge(leaf, l.count(), Long::sum);
                total += l.count();
            }
        }
        Map<String, Double> shares = new TreeMap<>();
        for (var e : counts.entrySet()) {
            shares.put(e.getKey(), 100.0 * e.getValue() / total);
        }
        return shares;
    }

    /** jit.p's "f" output: lines of {@code NN%  name}. */
    static Map<String, Double> jitpShares(Path file) throws Exception {
        Map<String, Double> shares = new TreeMap<>();
        Pattern line = Pattern.compile("^\\s*(\\d+)%\\s+(.+?)\\s*$");
        for (String l : Files.readAllLines(file)) {
            Matcher m = line.matcher(l);
            if (m.matches()) {
                shares.put(m.group(2), Double.parseDouble(m.group(1)));
            }
        }
        return shares;
    }

    @ParameterizedTest
    @ValueSource(strings = {"luajit2", "upstream", "nogc64"})
    void sharesMatchJitPInTheSameRunAndStacksAreComplete(String name) throws Exception {
        Variant v = variant(name);
        Path jp = Moonwalk.WORK.resolve(name + "-jitp.txt");
        Files.deleteIfExists(jp);
        Path script = Moonwalk.ROOT.resolve("testdata/lua/shares.lua");
        // jit.p at 1 ms in the same process: thousands of samples, so both sides' sampling noise stays well
        // below the tolerance
        Process lj = start(v, "-joff", "-jp=fi1," + jp, script.toString(), "9");
        try {
            Thread.sleep(400);
            Folded all = record(lj, name, 499, 6);
            Folded p = all.ofProcess("luajit");
            assertThat(lj.waitFor(60, TimeUnit.SECONDS)).as("the workload ends").isTrue();
            Map<String, Double> ours = leafLuaShares(p);
            Map<String, Double> theirs = jitpShares(jp);
            long complete = p.countMatching(LuajitWalkIT::complete);
            double completeShare = 100.0 * complete / p.total();
            System.out.printf("%s: %d samples, complete %.2f%%; moonwalk %s; jit.p %s%n", name, p.total(),
                    completeShare, ours, theirs);
            assertThat(p.total()).isGreaterThan(1000);
            assertThat(theirs.keySet()).as("jit.p's functions").contains("a", "c", "shares.lua:10");
            for (String fn : List.of("a", "c", "shares.lua:10")) {
                assertThat(ours.getOrDefault(fn, 0.0)).as("%s share of %s vs jit.p", name, fn)
                        .isCloseTo(theirs.get(fn), org.assertj.core.data.Offset.offset(3.0));
            }
            assertThat(completeShare).as("complete stacks").isGreaterThanOrEqualTo(98.0);
            // the designed call tree, as the stacks show it
            assertThat(p.countMatching(l -> l.joined().contains(";main chunk (" ) && l.joined().matches(
                    ".*;main chunk \\([^;]*shares\\.lua:\\d+\\);b \\([^;]*shares\\.lua:9\\);c \\([^;]*shares\\.lua:8\\)$")))
                    .as("main chunk;b;c").isGreaterThan(0);
            assertThat(p.countMatching(l -> l.joined().matches(
                    ".*;main chunk \\([^;]*shares\\.lua:\\d+\\);pcall;function <[^;]*shares\\.lua:10> \\([^;]*\\)$")))
                    .as("main chunk;pcall;d").isGreaterThan(0);
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void luaToCToLuaRoundTripsAppearInTrueOrder() throws Exception {
        Process lj = start(variant("luajit2"), "-joff", Moonwalk.ROOT.resolve("testdata/lua/nested.lua").toString(),
                "30");
        try {
            Thread.sleep(400);
            Folded p = record(lj, "nested", 199, 4).ofProcess("luajit");
            // root first; user-space frames between the Lua frames are the C code on the native stack
            Map<String, Long> byPath = new HashMap<>();
            for (Folded.Line l : p.lines()) {
                List<String> lua = frames(l).stream().filter(f -> isLua(f) || !f.contains("+0x") && !f.endsWith("_[k]")
                        && !f.startsWith("[")).toList();
                int chunk = -1;
                for (int i = 0; i < lua.size(); i++) {
                    if (lua.get(i).startsWith("main chunk (")) {
                        chunk = i;
                    }
                }
                if (chunk < 0) {
                    continue;
                }
                List<String> tail = lua.subList(chunk + 1, lua.size()).stream()
                        .map(f -> f.replaceAll(" \\([^()]*\\)$", "").replaceAll("<[^<>]*/", "<")).toList();
                byPath.merge(String.join(";", tail), l.count(), Long::sum);
            }
            System.out.println("nested stacks below the main chunk: " + byPath);
            assertThat(byPath).containsKeys(
                    "via_gsub;string.gsub;function <nested.lua:5>;burn",
                    "via_meta;__index;burn",
                    "via_co;coroutine.resume;function <nested.lua:9>;burn",
                    "via_pcall;pcall;function <nested.lua:12>;burn");
            long incomplete = p.total() - p.countMatching(LuajitWalkIT::complete);
            assertThat(100.0 * incomplete / p.total()).as("incomplete stacks, %%").isLessThanOrEqualTo(2.0);
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void withTheJitOnSamplesAreStillCounted() throws Exception {
        Process lj = start(variant("luajit2"), Moonwalk.ROOT.resolve("testdata/lua/nested.lua").toString(), "30");
        try {
            Thread.sleep(400);
            Folded p = record(lj, "jit", 99, 3).ofProcess("luajit");
            long withLua = p.countMatching(l -> frames(l).stream().anyMatch(LuajitWalkIT::isLua));
            long explicitErrors = p.countMatching(l -> frames(l).stream().anyMatch(f -> f.startsWith(ERROR)));
            System.out.printf("JIT on: %d samples, %d with Lua frames, %d ending in an error frame%n", p.total(),
                    withLua, explicitErrors);
            assertThat(lj.isAlive()).as("the profiled process is unharmed").isTrue();
            assertThat(p.total()).isGreaterThan(100);
            // every sample either has named frames or says explicitly where the walk stopped
            assertThat(p.countMatching(l -> frames(l).stream().anyMatch(f -> f.startsWith(ERROR))
                    || frames(l).contains("main"))).isEqualTo(p.total());
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
