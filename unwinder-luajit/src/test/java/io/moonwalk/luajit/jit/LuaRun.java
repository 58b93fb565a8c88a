package io.moonwalk.luajit.jit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A running process that speaks {@code testdata/lua/jit_truth.lua}'s line protocol, and the parsed ground truth
 * it prints: what LuaJIT itself says about its traces.
 */
final class LuaRun implements AutoCloseable {
    /** One trace as LuaJIT describes it (root/parent from jit.attach; -1 if the start was not seen). */
    record TraceTruth(int traceno, int root, int parent, long startProto, long mcode, long szmcode, int link,
                      String linktype) {
    }

    /** One dump: a lua_State of the VM, its traces by number, flush events seen. */
    record Truth(long thread, Map<Integer, TraceTruth> traces, int flushes) {
        int sideTraces() {
            return (int) traces.values().stream().filter(t -> t.root() > 0).count();
        }
    }

    final Process process;
    final int pid;
    private final BufferedReader out;
    private final OutputStream in;

    LuaRun(List<String> cmd, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        process = pb.start();
        pid = (int) process.pid();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = process.getOutputStream();
    }

    /** Lines up to and including the first equal to {@code marker} (fails at EOF). */
    List<String> readUntil(String marker) throws IOException {
        List<String> got = new ArrayList<>();
        for (String line; (line = out.readLine()) != null; ) {
            got.add(line);
            if (line.equals(marker)) {
                return got;
            }
        }
        throw new AssertionError("process " + pid + " ended before printing " + marker + "; got " + got);
    }

    /** The next line, or null at EOF. */
    String readLine() throws IOException {
        return out.readLine();
    }

    /** Sends a command and returns its answer (the lines before DONE). */
    List<String> command(String cmd) throws IOException {
        in.write((cmd + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        List<String> got = readUntil("DONE");
        return got.subList(0, got.size() - 1);
    }

    void send(String line) throws IOException {
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /**
     * The ground truth in {@code lines}, only those starting with {@code prefix} (e.g. "VM1 "; "" for all),
     * with the prefix removed.
     */
    static Truth parse(List<String> lines, String prefix) {
        long thread = 0;
        int flushes = -1;
        Map<Integer, TraceTruth> traces = new LinkedHashMap<>();
        for (String raw : lines) {
            if (!raw.startsWith(prefix)) {
                continue;
            }
            String[] t = raw.substring(prefix.length()).split(" ");
            switch (t[0]) {
                case "THREAD" -> thread = hex(t[1]);
                case "TRACE" -> traces.put(Integer.parseInt(t[1]), new TraceTruth(Integer.parseInt(t[1]),
                        t[2].equals("?") ? -1 : Integer.parseInt(t[2]), t[3].equals("?") ? -1 : Integer.parseInt(t[3]),
                        t[4].equals("?") ? 0 : hex(t[4]), hex(t[5]), Long.parseLong(t[6]), Integer.parseInt(t[7]),
                        t[8]));
                case "FLUSHES" -> flushes = Integer.parseInt(t[1]);
                default -> {
                }
            }
        }
        if (thread == 0) {
            throw new AssertionError("no THREAD line with prefix '" + prefix + "' in " + lines);
        }
        return new Truth(thread, traces, flushes);
    }

    static long hex(String s) {
        return Long.parseUnsignedLong(s.startsWith("0x") ? s.substring(2) : s, 16);
    }

    @Override
    public void close() throws Exception {
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
