package io.moonwalk.agent.output;

import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
import io.moonwalk.agent.profile.Profile;

import java.io.IOException;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * gzip-compressed pprof ({@code perftools.profiles.Profile}).
 *
 * <p>How frames map onto pprof:
 * <ul>
 *   <li>One location per distinct frame (kind, name, module); ids start at 1; address 0 because
 *       frames are already symbolized (every mapping says {@code has_functions}).</li>
 *   <li>Function {@code name} is the plain name, so the same Lua function run interpreted and
 *       compiled shows up under one name in pprof views. The kind lives in {@code system_name},
 *       which carries the folded-label suffix ({@code _[k]} kernel, {@code _[j]} Lua JIT), so the
 *       two stay separate functions and tools that read system names can tell them apart.</li>
 *   <li>Lua frames {@code fn (chunk:line)} become function {@code fn}, file name {@code chunk},
 *       line {@code line}.</li>
 *   <li>Mappings: kernel frames go to the frame's module or {@code [kernel.kallsyms]}; native
 *       frames to their module; Lua frames to their module or else their chunk. Frames with
 *       neither have no mapping (mapping_id 0).</li>
 *   <li>Samples are leaf first, with labels {@code pid} (num), {@code process}, {@code thread}
 *       and the entry's own labels (str, sorted by key).</li>
 * </ul>
 */
public final class PprofWriter implements ProfileWriter {

    static final String KERNEL_MAPPING = "[kernel.kallsyms]";

    @Override
    public void write(Profile profile, OutputStream out) throws IOException {
        GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16);
        toProto(profile).writeTo(gz);
        gz.finish();
        gz.flush();
    }

    /** The uncompressed pprof message for {@code profile}. */
    public static ProfileProto.Profile toProto(Profile profile) {
        return new Builder(profile.periodNanos()).build(profile);
    }

    private static final class Builder {
        private final ProfileProto.Profile.Builder out = ProfileProto.Profile.newBuilder();
        private final Map<String, Long> strings = new HashMap<>();
        private final Map<String, Long> mappings = new HashMap<>();
        private final Map<FunctionKey, Long> functions = new HashMap<>();
        private final Map<Frame, Long> locations = new HashMap<>();
        private final long period;

        private record FunctionKey(String name, String systemName, String fileName) {
        }

        Builder(long period) {
            this.period = period;
            string("");
        }

        ProfileProto.Profile build(Profile profile) {
            out.addSampleType(valueType("samples", "count"));
            out.addSampleType(valueType("cpu", "nanoseconds"));
            out.setPeriodType(valueType("cpu", "nanoseconds"));
            out.setPeriod(profile.periodNanos());
            out.setTimeNanos(profile.startEpochNanos());
            out.setDurationNanos(profile.durationNanos());
            out.addComment(string("moonwalk"));
            long pidKey = string("pid");
            long processKey = string("process");
            long threadKey = string("thread");
            for (Profile.Entry e : profile.entries()) {
                if (e.count() < 0) {
                    throw new IllegalArgumentException("negative sample count " + e.count()
                            + " for process " + e.process().pid() + " (" + e.process().command() + ")");
                }
                if (e.count() == 0) {
                    continue;
                }
                ProfileProto.Sample.Builder s = ProfileProto.Sample.newBuilder();
                List<Frame> frames = e.frames();
                for (int i = frames.size() - 1; i >= 0; i--) {
                    s.addLocationId(location(frames.get(i)));
                }
                s.addValue(e.count());
                s.addValue(Math.multiplyExact(e.count(), period));
                s.addLabel(ProfileProto.Label.newBuilder().setKey(pidKey).setNum(e.process().pid()));
                s.addLabel(strLabel(processKey, e.process().command()));
                s.addLabel(strLabel(threadKey, e.threadName()));
                if (!e.process().containerId().isEmpty()) {
                    s.addLabel(strLabel(string("container.id"), e.process().containerId()));
                }
                for (Map.Entry<String, String> l : new TreeMap<>(e.labels()).entrySet()) {
                    s.addLabel(strLabel(string(l.getKey()), l.getValue()));
                }
                out.addSample(s);
            }
            return out.build();
        }

        private ProfileProto.Label.Builder strLabel(long key, String value) {
            return ProfileProto.Label.newBuilder().setKey(key).setStr(string(value));
        }

        private ProfileProto.ValueType valueType(String type, String unit) {
            return ProfileProto.ValueType.newBuilder().setType(string(type)).setUnit(string(unit)).build();
        }

        private long string(String s) {
            Long index = strings.get(s);
            if (index == null) {
                index = (long) strings.size();
                strings.put(s, index);
                out.addStringTable(s);
            }
            return index;
        }

        private long location(Frame frame) {
            Long id = locations.get(frame);
            if (id != null) {
                return id;
            }
            // pprof viewers show an empty name as nothing at all; say what it is instead.
            String name = frame.name().isEmpty() ? "[unknown]" : frame.name();
            String fileName = "";
            long line = 0;
            String mappingFile = frame.module();
            boolean lua = frame.kind() == FrameKind.LUA || frame.kind() == FrameKind.LUA_JIT;
            if (lua) {
                var parsed = LuaFrameName.parse(name);
                if (parsed.isPresent()) {
                    name = parsed.get().function();
                    fileName = parsed.get().chunk();
                    line = parsed.get().line();
                    if (mappingFile.isEmpty()) {
                        mappingFile = fileName;
                    }
                }
            } else if (frame.kind() == FrameKind.KERNEL && mappingFile.isEmpty()) {
                mappingFile = KERNEL_MAPPING;
            }
            String systemName = switch (frame.kind()) {
                case KERNEL -> name + "_[k]";
                case LUA_JIT -> name + "_[j]";
                default -> name;
            };
            long functionId = function(new FunctionKey(name, systemName, fileName));
            id = (long) locations.size() + 1;
            locations.put(frame, id);
            ProfileProto.Location.Builder loc = ProfileProto.Location.newBuilder()
                    .setId(id)
                    .addLine(ProfileProto.Line.newBuilder().setFunctionId(functionId).setLine(line));
            if (!mappingFile.isEmpty()) {
                loc.setMappingId(mapping(mappingFile, lua));
            }
            out.addLocation(loc);
            return id;
        }

        private long function(FunctionKey key) {
            Long id = functions.get(key);
            if (id == null) {
                id = (long) functions.size() + 1;
                functions.put(key, id);
                out.addFunction(ProfileProto.Function.newBuilder()
                        .setId(id)
                        .setName(string(key.name()))
                        .setSystemName(string(key.systemName()))
                        .setFilename(string(key.fileName())));
            }
            return id;
        }

        private long mapping(String fileName, boolean lua) {
            Long id = mappings.get(fileName);
            if (id == null) {
                id = (long) mappings.size() + 1;
                mappings.put(fileName, id);
                out.addMapping(ProfileProto.Mapping.newBuilder()
                        .setId(id)
                        .setFilename(string(fileName))
                        .setHasFunctions(true)
                        .setHasFilenames(lua)
                        .setHasLineNumbers(lua));
            }
            return id;
        }
    }
}
