package io.moonwalk.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code moonwalk stack}: usage errors exit 2 with one line, a bad core exits 1 naming it, a good one prints. */
class StackCommandTest {
    static final Path SUITE = Path.of(System.getProperty("moonwalk.root", "..")).toAbsolutePath().normalize()
            .resolve("testdata/replay");

    record Run(int code, String out, String err) {
    }

    /**
     * stderr without Jazzer's "INFO: Instrumented ..." lines: after a fuzz test of this module ran in the same JVM,
     * its agent logs each class it instruments as the command loads it (this test then saw 17 of them before the
     * one line of its own).
     */
    static String withoutJazzerLog(String err) {
        StringBuilder sb = new StringBuilder();
        err.lines().filter(l -> !l.startsWith("INFO: Instrumented ")).forEach(l -> sb.append(l).append('\n'));
        return sb.toString();
    }

    static synchronized Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), withoutJazzerLog(e.toString(StandardCharsets.UTF_8)));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void usageErrorsExit2WithOneLine(@TempDir Path tmp) throws IOException {
        for (String[] args : new String[][] {
            {"stack"},
            {"stack", "--core", tmp.resolve("nope").toString()},
            {"stack", "--core", Files.createFile(tmp.resolve("c")).toString(), "--format", "xml"},
            {"stack", "--core", tmp.resolve("c").toString(), "--modules", tmp.resolve("nodir").toString()},
        }) {
            Run r = run(args);
            assertThat(r.code).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err.lines()).as(String.join(" ", args)).hasSize(1);
            assertThat(r.out).isEmpty();
        }
        assertThat(run("stack", "--core", tmp.resolve("nope").toString()).err).contains(tmp.resolve("nope").toString());
    }

    @Test
    void aCoreThatDoesNotParseIsNamed(@TempDir Path tmp) throws IOException {
        Path bad = Files.write(tmp.resolve("bad.core"), new byte[100]);
        Run r = run("stack", "--core", bad.toString());
        assertThat(r.code).isEqualTo(1);
        assertThat(r.err.lines().toList()).singleElement().asString().contains("bad.core").contains("no ELF magic");
    }

    @Test
    void missingFilesAreNamedAndTheStackStillPrints(@TempDir Path tmp) throws IOException {
        Path core = tmp.resolve("core");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(
                SUITE.resolve("cases/native-plt/core.gz")))) {
            Files.copy(in, core);
        }
        // an empty store, and the workload's files (built in a temporary directory) are not on this machine
        Path empty = Files.createDirectory(tmp.resolve("modules"));
        Run r = run("stack", "--core", core.toString(), "--modules", empty.toString(), "--format", "folded");
        assertThat(r.code).isEqualTo(0);
        assertThat(r.err).contains("mapped file not found: ").contains("libpltlib.so").contains("plt_main");
        assertThat(r.out.lines()).hasSize(1);
        Run ok = run("stack", "--core", core.toString(), "--modules", SUITE.resolve("modules").toString(),
                "--format", "folded");
        assertThat(ok.code).isEqualTo(0);
        assertThat(ok.out).isEqualTo("plt_main;_start;__libc_start_main;__libc_start_call_main;main;"
                + "plt_outer.constprop.0;plt_lib_call;plt_callback;plt_lib_call;plt_callback;plt_lib_call;"
                + "plt_lib_spin.isra.0 1\n");
        Run json = run("stack", "--core", core.toString(), "--modules", SUITE.resolve("modules").toString(),
                "--format", "json");
        assertThat(json.out).startsWith("{\"pid\":").contains("\"function\":\"plt_lib_call\"")
                .contains("\"module\":\"libpltlib.so\"").contains("\"missing_files\":{}");
    }
}
