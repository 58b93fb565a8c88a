package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Debian package under real systemd: a Debian container booted with systemd as PID 1 gets the
 * .deb from {@code scripts/package} through apt, and the installed moonwalk.service is checked as
 * an operator would use it: it runs, profiles a LuaJIT workload of that machine (Lua and named
 * kernel frames in the web view), stops in time leaving none of its BPF programs, fails on a bad
 * config key without a restart loop, and restarts.
 *
 * <p>Needs podman and the base image ({@code scripts/containers}); the package path comes from
 * {@code moonwalk.deb} (default: the one .deb in target/). Without them the test fails, saying which.
 */
class ContainerSystemdIT {
    private static final Path ROOT = Path.of(System.getProperty("moonwalk.root", ".")).toAbsolutePath().normalize();
    private static final String BASE_IMAGE = System.getProperty("moonwalk.base.image",
            System.getenv().getOrDefault("MOONWALK_BASE_IMAGE", "localhost/moonwalk-debian:bookworm"));
    private static final Pattern NAMED_KERNEL_FRAME = Pattern.compile("(?:^|;)([A-Za-z_][A-Za-z0-9_.]*)_\\[k\\]");
    /** An address kallsyms did not name (StackSymbolizer writes it as 0x...). */
    private static final Pattern RAW_KERNEL_FRAME = Pattern.compile("(?:^|;)(0x[0-9a-f]+)_\\[k\\]");

    @Test
    void debianPackageRunsAsASystemdService() throws Exception {
        Path deb = debianPackage();
        try (SystemdContainer c = SystemdContainer.boot(ROOT.resolve("testdata/systemd/Containerfile"), BASE_IMAGE)) {
            // install as a user would; Debian's convention (dh_installsystemd): enabled and started
            c.copyIn(deb, "/tmp/" + deb.getFileName());
            c.check(600, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                    "/tmp/" + deb.getFileName());
            assertThat(c.check(30, "dpkg-query", "-W", "-f", "${Conffiles}", "moonwalk"))
                    .as("conffiles").contains("/etc/moonwalk/moonwalk.conf");
            assertThat(c.exec(30, "systemctl", "is-enabled", "moonwalk").out().strip()).isEqualTo("enabled");
            assertThat(c.check(30, "stat", "-c", "%U", "/var/lib/moonwalk").strip()).isEqualTo("moonwalk");

            // a LuaJIT workload on that machine, then an explicit start (a no-op when postinst started it)
            c.copyIn(ROOT.resolve("testdata/lua/nested.lua"), "/opt/nested.lua");
            c.check(30, "sh", "-c", "nohup luajit /opt/nested.lua 900 >/dev/null 2>&1 &");
            // and one that runs in the kernel (read_zero, copy to user): the Lua workload stays in user mode, so
            // without it a quiet host may give the first windows no kernel-mode sample to name (a flake seen in CI)
            c.check(30, "sh", "-c", "nohup timeout 300 dd if=/dev/zero of=/dev/null bs=1M >/dev/null 2>&1 &");
            c.check(60, "systemctl", "start", "moonwalk");
            assertThat(c.exec(30, "systemctl", "is-active", "moonwalk").out().strip()).isEqualTo("active");
            long luajitPid = Long.parseLong(c.check(30, "pgrep", "-o", "-x", "luajit").strip());

            String index = awaitWebView(c, "luajit (pid " + luajitPid + ")", 120);
            assertThat(index).contains("<table id=\"windows\">");
            String flame = c.check(60, "curl", "-sf", "http://127.0.0.1:7070/flamegraph?pid=" + luajitPid);
            // the web view's merged windows name the chunk as LuaJIT does ("@/opt/nested.lua")
            assertThat(flame).as("Lua frames of the workload in the web view")
                    .containsPattern("via_gsub \\(@?/opt/nested\\.lua:6\\)")
                    .containsPattern("burn \\(@?/opt/nested\\.lua:4\\)");

            // kernel frames are named under the unit (CAP_SYSLOG, /proc/kallsyms visible)
            String folded = c.check(60, "sh", "-c", "cat /var/lib/moonwalk/*.folded");
            List<String> named = matches(NAMED_KERNEL_FRAME, folded);
            List<String> raw = matches(RAW_KERNEL_FRAME, folded);
            System.out.printf("systemd: %d named kernel frames (e.g. %s), %d raw kernel addresses%n",
                    named.size(), named.stream().distinct().limit(3).toList(), raw.size());
            assertThat(named).as("named kernel frames in the stored windows").isNotEmpty();
            // a few addresses may fall outside kallsyms (e.g. between symbols of freed init text); 1 % bound
            assertThat(raw.size()).as("kernel frames left as raw addresses: " + raw.stream().distinct().limit(5).toList())
                    .isLessThanOrEqualTo((named.size() + raw.size()) / 100);
            assertThat(c.exec(30, "journalctl", "-u", "moonwalk", "--no-pager").out())
                    .doesNotContain("kernel frames stay unnamed");

            // stop: within the unit's stop timeout, clean exit, none of its BPF programs left
            String mainPid = c.check(30, "systemctl", "show", "-p", "MainPID", "--value", "moonwalk").strip();
            Set<Long> progIds = bpfProgramIds(c, mainPid);
            assertThat(progIds).as("BPF programs held by the agent (pid " + mainPid + ")").isNotEmpty();
            long timeoutUs = Long.parseLong(c.check(30, "systemctl", "show", "-p", "TimeoutStopUSec", "--value",
                    "moonwalk").strip().replace("s", "")) * 1_000_000L;
            long t0 = System.nanoTime();
            c.check(120, "systemctl", "stop", "moonwalk");
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("systemd: stop took %d ms (TimeoutStopSec %d s); programs %s%n", stopMs,
                    timeoutUs / 1_000_000, progIds);
            assertThat(stopMs).as("stop time").isLessThan(timeoutUs / 1000);
            assertThat(c.check(30, "systemctl", "show", "-p", "Result", "--value", "moonwalk").strip()).isEqualTo("success");
            Set<Long> left = new HashSet<>(progIds);
            left.retainAll(loadedProgramIds(c));
            assertThat(left).as("the agent's BPF programs still loaded after stop").isEmpty();

            // a bad config key: the unit fails with the error line in the journal and does not restart
            c.check(30, "sh", "-c", "cp /etc/moonwalk/moonwalk.conf /tmp/good.conf"
                    + " && echo 'no-such-key = 1' >> /etc/moonwalk/moonwalk.conf");
            c.exec(60, "systemctl", "start", "moonwalk");
            awaitState(c, "failed", 60);
            Thread.sleep(8_000); // longer than RestartSec=5: a restart would have happened by now
            assertThat(c.exec(30, "systemctl", "is-active", "moonwalk").out().strip()).isEqualTo("failed");
            assertThat(c.check(30, "systemctl", "show", "-p", "NRestarts", "--value", "moonwalk").strip())
                    .as("restarts after a usage error").isEqualTo("0");
            assertThat(c.check(30, "systemctl", "show", "-p", "ExecMainStatus", "--value", "moonwalk").strip())
                    .as("exit status of a usage error").isEqualTo("2");
            String journal = c.check(30, "journalctl", "-u", "moonwalk", "--no-pager", "-o", "cat");
            assertThat(journal).contains("moonwalk: /etc/moonwalk/moonwalk.conf:").contains("no-such-key");

            // restart with the good config: active again, a new process, answering
            c.check(30, "cp", "/tmp/good.conf", "/etc/moonwalk/moonwalk.conf");
            c.check(30, "systemctl", "reset-failed", "moonwalk");
            c.check(60, "systemctl", "restart", "moonwalk");
            assertThat(c.exec(30, "systemctl", "is-active", "moonwalk").out().strip()).isEqualTo("active");
            assertThat(c.check(30, "systemctl", "show", "-p", "MainPID", "--value", "moonwalk").strip()).isNotEqualTo(mainPid);
            awaitWebView(c, "luajit (pid " + luajitPid + ")", 120);
            c.check(60, "systemctl", "restart", "moonwalk");
            assertThat(c.exec(30, "systemctl", "is-active", "moonwalk").out().strip()).isEqualTo("active");
            awaitHttp(c, "/healthz", 90);

            // an OutOfMemoryError ends the JVM at once (the package's launcher reads jvm.options:
            // -XX:+ExitOnOutOfMemoryError): exit 3, and the unit restarts it. The test fault fills the heap
            // while the agent syncs the running processes before attaching.
            assertThat(c.check(30, "cat", "/usr/share/moonwalk/jvm.options")).contains("-XX:+ExitOnOutOfMemoryError");
            c.check(30, "sh", "-c", "mkdir -p /etc/systemd/system/moonwalk.service.d && printf '%s\\n' '[Service]'"
                    + " 'Environment=\"MOONWALK_JAVA_OPTS=-Xmx64m -Dmoonwalk.test.inject-fault=presync:oom:*\"'"
                    + " > /etc/systemd/system/moonwalk.service.d/oom.conf && systemctl daemon-reload");
            c.check(30, "systemctl", "reset-failed", "moonwalk");
            c.exec(60, "systemctl", "restart", "moonwalk");
            long oomDeadline = System.nanoTime() + 90_000_000_000L;
            while (System.nanoTime() < oomDeadline && Long.parseLong(c.check(30, "systemctl", "show", "-p", "NRestarts",
                    "--value", "moonwalk").strip()) == 0) {
                Thread.sleep(500);
            }
            String oomJournal = c.check(30, "journalctl", "-u", "moonwalk", "--no-pager", "-o", "cat");
            System.out.printf("systemd: OutOfMemoryError: %s; restarts %s%n", oomJournal.lines()
                    .filter(l -> l.contains("OutOfMemoryError")).findFirst().orElse("(none)"),
                    c.check(30, "systemctl", "show", "-p", "NRestarts", "--value", "moonwalk").strip());
            assertThat(oomJournal).contains("Terminating due to java.lang.OutOfMemoryError");
            assertThat(oomJournal).containsPattern("moonwalk.service: Main process exited, code=exited, status=3");
            assertThat(Long.parseLong(c.check(30, "systemctl", "show", "-p", "NRestarts", "--value", "moonwalk")
                    .strip())).as("the unit restarts after exit 3").isPositive();
            c.check(30, "sh", "-c", "rm -r /etc/systemd/system/moonwalk.service.d && systemctl daemon-reload");
            c.check(30, "systemctl", "reset-failed", "moonwalk");
            c.check(60, "systemctl", "restart", "moonwalk");
            awaitHttp(c, "/healthz", 90);

            String security = c.check(60, "systemd-analyze", "security", "--no-pager", "moonwalk.service");
            Matcher m = Pattern.compile("Overall exposure level for moonwalk.service: ([0-9.]+)").matcher(security);
            assertThat(m.find()).as("systemd-analyze security output:\n" + security).isTrue();
            System.out.println("systemd: systemd-analyze security moonwalk.service: " + m.group(1));
            assertThat(Double.parseDouble(m.group(1))).as("exposure (the unit before the package: 4.6)").isLessThan(3.0);
        }
    }

    private static Path debianPackage() throws Exception {
        String given = System.getProperty("moonwalk.deb");
        if (given != null && !given.isBlank()) {
            Path p = Path.of(given);
            assertThat(p).as("moonwalk.deb").isRegularFile();
            return p;
        }
        try (Stream<Path> s = Files.list(ROOT.resolve("target"))) {
            List<Path> debs = s.filter(p -> p.getFileName().toString().matches("moonwalk_.*_amd64\\.deb")).toList();
            if (debs.size() != 1) {
                throw new AssertionError("expected one moonwalk_*_amd64.deb in " + ROOT.resolve("target")
                        + ", found " + debs + ": run scripts/package first (or set -Dmoonwalk.deb=FILE)");
            }
            return debs.getFirst();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new AssertionError("no " + ROOT.resolve("target") + ": run scripts/package first");
        }
    }

    private static String awaitWebView(SystemdContainer c, String expected, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            SystemdContainer.Result r = c.exec(30, "curl", "-sf", "http://127.0.0.1:7070/");
            last = r.all();
            if (r.exit() == 0 && last.contains(expected)) {
                return r.out();
            }
            Thread.sleep(2_000);
        }
        throw new AssertionError("the web view did not list '" + expected + "' within " + seconds + " s; last answer:\n"
                + last + "\njournal:\n" + c.exec(30, "journalctl", "-u", "moonwalk", "--no-pager", "-n", "40").all());
    }

    private static void awaitHttp(SystemdContainer c, String path, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (c.exec(30, "curl", "-sf", "http://127.0.0.1:7070" + path).exit() == 0) {
                return;
            }
            Thread.sleep(1_000);
        }
        throw new AssertionError(path + " did not answer within " + seconds + " s");
    }

    private static void awaitState(SystemdContainer c, String state, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String s = "";
        while (System.nanoTime() < deadline) {
            s = c.exec(30, "systemctl", "is-active", "moonwalk").out().strip();
            if (s.equals(state)) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("moonwalk.service is '" + s + "', not '" + state + "', after " + seconds + " s");
    }

    /** The ids of the BPF programs the agent process holds open (its fdinfo names them). */
    private static Set<Long> bpfProgramIds(SystemdContainer c, String pid) throws Exception {
        String fdinfo = c.exec(30, "sh", "-c", "cat /proc/" + pid + "/fdinfo/* 2>/dev/null").out();
        Set<Long> ids = new HashSet<>();
        Matcher m = Pattern.compile("(?m)^prog_id:\\s+(\\d+)").matcher(fdinfo);
        while (m.find()) {
            ids.add(Long.parseLong(m.group(1)));
        }
        return ids;
    }

    /** Every BPF program loaded on the (shared) kernel, by id. */
    private static Set<Long> loadedProgramIds(SystemdContainer c) throws Exception {
        String list = c.check(60, "bpftool", "prog", "show");
        Set<Long> ids = new HashSet<>();
        Matcher m = Pattern.compile("(?m)^(\\d+): ").matcher(list);
        while (m.find()) {
            ids.add(Long.parseLong(m.group(1)));
        }
        assertThat(ids).as("bpftool prog show lists programs").isNotEmpty();
        return ids;
    }

    private static List<String> matches(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher m = p.matcher(line);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}
