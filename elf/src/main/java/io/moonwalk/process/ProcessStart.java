package io.moonwalk.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's start time ({@code /proc/PID/stat} field 22, clock ticks since boot): with the PID it
 * names one process for the life of the machine, so a recycled PID is told from the process that
 * had it before even when that process's exit event was lost.
 */
public final class ProcessStart {
    /** The process does not exist (or its stat is unreadable). */
    public static final long GONE = -1;

    private ProcessStart() {}

    public static long ticks(Path procRoot, int pid) {
        byte[] stat;
        try {
            stat = Files.readAllBytes(procRoot.resolve(Integer.toString(pid)).resolve("stat"));
        } catch (IOException | SecurityException e) {
            return GONE;
        }
        return parse(new String(stat, StandardCharsets.ISO_8859_1));
    }

    /** Field 22 of a stat line; the command (field 2) may hold spaces and parentheses, so count after its last ')'. */
    static long parse(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return GONE;
        }
        int field = 2;
        int i = close + 1;
        while (i < stat.length()) {
            while (i < stat.length() && stat.charAt(i) == ' ') {
                i++;
            }
            int start = i;
            while (i < stat.length() && stat.charAt(i) != ' ' && stat.charAt(i) != '\n') {
                i++;
            }
            field++;
            if (field == 22) {
                try {
                    return Long.parseLong(stat, start, i, 10);
                } catch (NumberFormatException e) {
                    return GONE;
                }
            }
            if (i < stat.length() && stat.charAt(i) == '\n') {
                break;
            }
        }
        return GONE;
    }
}
