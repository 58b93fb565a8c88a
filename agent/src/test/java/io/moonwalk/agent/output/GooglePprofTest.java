package io.moonwalk.agent.output;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.frame.Frame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Google's own {@code pprof} (built from Debian's Go sources by {@code scripts/bootstrap}) reads our files: the
 * ground truth that pprof consumers see Lua functions with file:line, native addresses, and mappings with range,
 * offset and build id.
 */
@Tag("tools")
class GooglePprofTest {
    /** Where scripts/bootstrap caches the binary; MOONWALK_PPROF overrides. */
    static final Path PPROF = Path.of(System.getenv().getOrDefault("MOONWALK_PPROF",
            "/var/cache/moonwalk-tools/pprof"));

    @TempDir
    static Path dir;
    static Path file;

    @BeforeAll
    static void write() throws Exception {
        assertThat(Files.isExecutable(PPROF)).as("%s is missing: run scripts/bootstrap (it builds Google's pprof "
                + "from Debian's golang-github-google-pprof-dev)", PPROF).isTrue();
        List<Profile.Entry> entries = new ArrayList<>(SampleProfiles.small().entries());
        // an address no symbol covers: sent without a function, for pprof to symbolize from the mapping
        entries.add(new Profile.Entry(SampleProfiles.NGINX, "nginx", List.of(SampleProfiles.NGINX_MAIN,
                Frame.nativeCode("", 0x5555_5560_0123L, SampleProfiles.NGINX_TEXT)), Map.of(), 4));
        Profile p = SampleProfiles.small();
        file = dir.resolve("cpu.pb.gz");
        OutputFormat.forPath(file).newWriter().writeFile(
                new Profile(p.startEpochNanos(), p.durationNanos(), p.periodNanos(), entries), file);
    }

    private static String pprof(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PPROF.toString(), "-symbolize=none"));
        cmd.addAll(List.of(args));
        cmd.add(file.toString());
        ExternalTool.Result r = ExternalTool.run(cmd, null, dir, 60);
        assertThat(r.exitCode()).as("pprof %s: %s", String.join(" ", args), r.stderr()).isZero();
        return r.stdout();
    }

    @Test
    void rawShowsLuaFileLineNativeAddressesAndMappings() throws Exception {
        String raw = pprof("-raw");
        // location: address, mapping, function, file:line, start line (system name)
        assertThat(raw).containsPattern("(?m)^ +\\d+: 0x0 fib /etc/nginx/app\\.lua:3 s=1\\(fib_\\[j\\]\\)$")
                .containsPattern("(?m)^ +\\d+: 0x0 handler /etc/nginx/app\\.lua:12 s=10$")
                .containsPattern("(?m)^ +\\d+: 0x555555580041 M=1 ngx_http_handler :0 s=0$")
                .containsPattern("(?m)^ +\\d+: 0xffffffff81a00456 M=2 schedule :0 s=0\\(schedule_\\[k\\]\\)$")
                .containsPattern("(?m)^ +\\d+: 0x555555600123 M=1 $");
        // mapping: start/limit/offset, path, build id
        assertThat(raw).contains("1: 0x555555556000/0x555555656000/0x2000 /usr/sbin/nginx deadbeefcafe")
                .contains("0xffffffff81000000/0xffffffff83000000/0x0 [kernel.kallsyms] "
                        + "7dd4ff0789e05e14285320129149da2555ca0bfc [FN]")
                .contains("0x7f0010028000/0x7f001017d000/0x28000 /usr/lib/x86_64-linux-gnu/libc.so.6 c0ffee [FN]");
        // the nginx mapping holds an unresolved address, so it does not claim to have every function
        assertThat(raw).doesNotContain("/usr/sbin/nginx deadbeefcafe [FN]");
    }

    @Test
    void tracesShowLuaLinesAndNativeAddresses() throws Exception {
        String lines = pprof("-traces", "-lines");
        assertThat(lines).containsPattern("(?m)^ +\\S+ +fib /etc/nginx/app\\.lua:3\\n +handler /etc/nginx/app\\.lua:12\\n"
                + " +ngx_http_handler\\n +main$");
        assertThat(lines).containsPattern("(?m)^ +\\S+ +\\[unknown\\]\\n +f stdin:1\\n +main$");
        String addresses = pprof("-traces", "-addresses");
        assertThat(addresses).containsPattern("(?m)^ +handler /etc/nginx/app\\.lua:12\\n +0000555555580041 ngx_http_handler\\n"
                + " +0000555555557123 main$");
        assertThat(addresses).containsPattern("(?m)^ +\\S+ +ffffffff81a00456 schedule\\n +ffffffff81400123 do_epoll_wait\\n"
                + " +00007f0010100a3f epoll_wait\\n +0000555555557123 main$");
        // the unresolved address: pprof names it by its mapping only
        assertThat(addresses).containsPattern("(?m)^ +\\S+ +0000555555600123 \\[nginx\\]\\n +0000555555557123 main$");
    }

    @Test
    void topCountsOneFunctionPerLuaFunctionAndLine() throws Exception {
        String top = pprof("-top", "-lines");
        // interpreted and compiled fib are one function at one line: 30 + 10 + 5 samples of 10.1 ms
        assertThat(top).containsPattern("(?m)^ +454\\.55ms .* fib /etc/nginx/app\\.lua:3$");
    }
}
