package io.moonwalk.agent.store;

import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads a stored window back from the pprof file {@link io.moonwalk.agent.output.PprofWriter}
 * wrote, recovering the model: process ({@code pid}, {@code process} labels), thread, labels and
 * frames from their fields (function, file, start line, line, address, mapping). The kind comes from
 * where the writer put it: kernel, JIT and inlined frames by their {@code _[k]}/{@code _[j]}/{@code _[i]} system names (the
 * name plus the suffix, compared, not parsed), native frames by their mapping, address-only frames by
 * their address (kernel addresses are in the upper half), error frames by a bracketed name without
 * file or mapping, and the rest are interpreted frames.
 *
 * <p>Lossy in two places: pprof has no runtime, so interpreted frames come back with an empty
 * {@link Frame#runtime()}, and an interpreter's bracketed marker without a file (e.g.
 * {@code [stale lua frame]}) comes back as an error frame (same label, error colour).
 * Stored files are the agent's own but still checked: an index out of range is a {@link StoreException}.
 */
public final class PprofReader {
    /** A decompressed window larger than this is refused (the agent's windows are far smaller). */
    static final long MAX_BYTES = 64L << 20;

    private PprofReader() {
    }

    public static Profile read(Path file) throws IOException {
        ProfileProto.Profile p;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            byte[] raw = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_BYTES + 1));
            if (raw.length > MAX_BYTES) {
                throw new StoreException(file + " decompresses to more than " + MAX_BYTES + " bytes");
            }
            p = ProfileProto.Profile.parseFrom(raw);
        }
        return toModel(p, file.toString());
    }

    static Profile toModel(ProfileProto.Profile p, String where) {
        List<String> strings = p.getStringTableList();
        Map<Long, ProfileProto.Mapping> mappings = new HashMap<>();
        for (ProfileProto.Mapping m : p.getMappingList()) {
            mappings.put(m.getId(), m);
        }
        Map<Long, ProfileProto.Function> functions = new HashMap<>();
        for (ProfileProto.Function f : p.getFunctionList()) {
            functions.put(f.getId(), f);
        }
        Map<Long, Frame> frames = new HashMap<>();
        for (ProfileProto.Location l : p.getLocationList()) {
            frames.put(l.getId(), frameOf(l, mappings, functions, strings, where));
        }
        int valueIndex = 0; // "samples"/"count" comes first
        List<Profile.Entry> entries = new ArrayList<>(p.getSampleCount());
        Map<String, ProcessIdentity> processes = new HashMap<>();
        for (ProfileProto.Sample s : p.getSampleList()) {
            List<Frame> stack = new ArrayList<>(s.getLocationIdCount());
            for (int i = s.getLocationIdCount() - 1; i >= 0; i--) {
                Frame f = frames.get(s.getLocationId(i));
                if (f == null) {
                    throw new StoreException(where + ": sample refers to missing location " + s.getLocationId(i));
                }
                stack.add(f);
            }
            int pid = 0;
            String command = "";
            String thread = "";
            String container = "";
            Map<String, String> labels = new LinkedHashMap<>();
            for (ProfileProto.Label label : s.getLabelList()) {
                String key = string(strings, label.getKey(), where);
                switch (key) {
                    case "pid" -> pid = (int) label.getNum();
                    case "process" -> command = string(strings, label.getStr(), where);
                    case "thread" -> thread = string(strings, label.getStr(), where);
                    case "container.id" -> container = string(strings, label.getStr(), where);
                    default -> labels.put(key, string(strings, label.getStr(), where));
                }
            }
            if (s.getValueCount() <= valueIndex) {
                throw new StoreException(where + ": a sample has no value");
            }
            int finalPid = pid;
            String finalCommand = command;
            String finalContainer = container;
            ProcessIdentity process = processes.computeIfAbsent(pid + "\0" + command + "\0" + container,
                    k -> new ProcessIdentity(finalPid, finalCommand, "", finalContainer));
            entries.add(new Profile.Entry(process, thread, List.copyOf(stack), Map.copyOf(labels),
                    s.getValue(valueIndex)));
        }
        return new Profile(p.getTimeNanos(), p.getDurationNanos(), p.getPeriod(), entries);
    }

    private static Frame frameOf(ProfileProto.Location l, Map<Long, ProfileProto.Mapping> mappings,
                                 Map<Long, ProfileProto.Function> functions, List<String> strings, String where) {
        ProfileProto.Mapping m = l.getMappingId() == 0 ? null : mappings.get(l.getMappingId());
        if (l.getMappingId() != 0 && m == null) {
            throw new StoreException(where + ": location " + l.getId() + " refers to missing mapping "
                    + l.getMappingId());
        }
        CodeMapping mapping = m == null ? CodeMapping.NONE : new CodeMapping(string(strings, m.getFilename(), where),
                m.getMemoryStart(), m.getMemoryLimit(), m.getFileOffset(), string(strings, m.getBuildId(), where));
        long address = l.getAddress();
        if (l.getLineCount() == 0) {
            // an unresolved address: kernel addresses live in the upper half of the address space
            return address < 0 ? Frame.kernel("", address, mapping) : Frame.nativeCode("", address, mapping);
        }
        ProfileProto.Line line = l.getLine(0);
        ProfileProto.Function f = functions.get(line.getFunctionId());
        if (f == null) {
            throw new StoreException(where + ": location " + l.getId() + " refers to missing function "
                    + line.getFunctionId());
        }
        String name = string(strings, f.getName(), where);
        String system = string(strings, f.getSystemName(), where);
        String file = string(strings, f.getFilename(), where);
        if (system.equals(name + "_[k]")) {
            return Frame.kernel(name, address, mapping);
        }
        if (m != null) {
            return Frame.nativeCode(name, address, mapping);
        }
        boolean jit = system.equals(name + "_[j]");
        boolean inlined = system.equals(name + "_[i]");
        if (!jit && !inlined && file.isEmpty() && name.startsWith("[") && name.endsWith("]")) {
            return Frame.error(name);
        }
        int lineNumber = (int) Math.max(0, Math.min(Integer.MAX_VALUE, line.getLine()));
        int startLine = (int) Math.max(0, Math.min(Integer.MAX_VALUE, f.getStartLine()));
        Frame lua = Frame.interpreted("", name, file, lineNumber, startLine, jit || inlined);
        return inlined ? lua.asInlined() : lua;
    }

    private static String string(List<String> strings, long index, String where) {
        if (index < 0 || index >= strings.size()) {
            throw new StoreException(where + ": string index " + index + " out of range (" + strings.size() + ")");
        }
        return strings.get((int) index);
    }
}
