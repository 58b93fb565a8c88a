package io.moonwalk.agent.replay;

import io.moonwalk.frame.Frame;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The renderings of {@code moonwalk stack --core}: frames named by {@link Frame#label()}, as in folded stacks. */
public enum StackFormat {
    /** Per thread: a header with the thread and its labels, then one frame per line, leaf first (#0), like gdb's bt. */
    TEXT,
    /** One line per thread: {@code comm;root;...;leaf 1}, as {@code record --format folded} writes stacks. */
    FOLDED,
    /** One JSON document: the process and, per thread, its labels and frames (leaf first) with their fields. */
    JSON;

    public String render(CoreReplay.Result r) {
        StringBuilder sb = new StringBuilder();
        switch (this) {
            case TEXT -> {
                sb.append("process ").append(r.pid()).append(" (").append(r.command()).append("), ")
                        .append(r.threads().size()).append(r.threads().size() == 1 ? " thread" : " threads").append('\n');
                for (ThreadStack t : r.threads()) {
                    sb.append('\n').append("thread ").append(t.tid());
                    new TreeMap<>(t.labels()).forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
                    sb.append('\n');
                    List<Frame> f = t.frames();
                    for (int i = 0; i < f.size(); i++) {
                        sb.append(String.format("#%-3d %s", i, f.get(i).label()));
                        if (f.get(i).address() != 0) {
                            sb.append(String.format(" [0x%x]", f.get(i).address()));
                        }
                        sb.append('\n');
                    }
                }
            }
            case FOLDED -> {
                for (ThreadStack t : r.threads()) {
                    sb.append(t.comm().replace(';', ':'));
                    for (int i = t.frames().size() - 1; i >= 0; i--) {
                        sb.append(';').append(t.frames().get(i).label().replace(';', ':').replace('\n', ' '));
                    }
                    sb.append(" 1\n");
                }
            }
            case JSON -> {
                sb.append("{\"pid\":").append(r.pid()).append(",\"command\":").append(quote(r.command()))
                        .append(",\"threads\":[");
                for (int k = 0; k < r.threads().size(); k++) {
                    ThreadStack t = r.threads().get(k);
                    sb.append(k == 0 ? "" : ",").append("{\"tid\":").append(t.tid()).append(",\"labels\":{");
                    int n = 0;
                    for (Map.Entry<String, String> e : new TreeMap<>(t.labels()).entrySet()) {
                        sb.append(n++ == 0 ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                    }
                    sb.append("},\"frames\":[");
                    for (int i = 0; i < t.frames().size(); i++) {
                        Frame f = t.frames().get(i);
                        sb.append(i == 0 ? "" : ",").append("{\"label\":").append(quote(f.label()))
                                .append(",\"kind\":").append(quote(f.kind().name().toLowerCase(java.util.Locale.ROOT)))
                                .append(",\"function\":").append(quote(f.function()));
                        if (!f.file().isEmpty()) {
                            sb.append(",\"file\":").append(quote(f.file())).append(",\"line\":").append(f.line());
                        }
                        if (f.address() != 0) {
                            sb.append(",\"address\":").append(quote("0x" + Long.toHexString(f.address())));
                        }
                        if (!f.mapping().isNone()) {
                            sb.append(",\"module\":").append(quote(f.mapping().fileName()));
                        }
                        if (f.jit()) {
                            sb.append(",\"jit\":true");
                        }
                        sb.append('}');
                    }
                    sb.append("]}");
                }
                sb.append("],\"missing_files\":{");
                int n = 0;
                for (Map.Entry<String, String> e : new TreeMap<>(r.missingFiles()).entrySet()) {
                    sb.append(n++ == 0 ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                }
                sb.append("}}\n");
            }
        }
        return sb.toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
