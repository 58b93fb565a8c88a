package io.moonwalk.agent.store;

import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
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
 * frames with their kind (kernel and JIT frames by their {@code _[k]}/{@code _[j]} system names,
 * Lua frames by a mapping with file names, error frames by their bracketed name and no mapping).
 *
 * <p>Lossy in one place: pprof keeps a Lua chunk without Lua's {@code @} file marker, so a file
 * chunk is given its {@code @} back; {@code =name} chunks are kept as they are. Stored files are
 * the agent's own but still checked: an index out of range is a {@link StoreException}.
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
        if (l.getLineCount() == 0) {
            return new Frame(FrameKind.ERROR, "[no function]", "");
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
        ProfileProto.Mapping m = l.getMappingId() == 0 ? null : mappings.get(l.getMappingId());
        String module = m == null ? "" : string(strings, m.getFilename(), where);
        if (system.equals(name + "_[k]")) {
            return new Frame(FrameKind.KERNEL, name, module);
        }
        boolean lua = m != null && m.getHasFilenames();
        boolean jit = system.equals(name + "_[j]");
        if (lua || jit) {
            String luaName = file.isEmpty() ? name : name + " (" + chunk(file) + ":" + line.getLine() + ")";
            // the writer made a Lua frame without a module point at its chunk: undo that
            String luaModule = module.equals(file) ? "" : module;
            return new Frame(jit ? FrameKind.LUA_JIT : FrameKind.LUA, luaName, luaModule);
        }
        if (m == null && name.startsWith("[") && name.endsWith("]") && !name.equals("[unknown]")) {
            return new Frame(FrameKind.ERROR, name, "");
        }
        return new Frame(FrameKind.NATIVE, name, module);
    }

    private static String chunk(String file) {
        return file.startsWith("=") ? file : "@" + file;
    }

    private static String string(List<String> strings, long index, String where) {
        if (index < 0 || index >= strings.size()) {
            throw new StoreException(where + ": string index " + index + " out of range (" + strings.size() + ")");
        }
        return strings.get((int) index);
    }
}
