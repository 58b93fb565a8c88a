package io.moonwalk.agent.output;

import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.moonwalk.agent.profile.Profile;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON the flame graph page renders. Stacks are merged into a prefix tree here, so the page
 * gets each shared prefix once ({@code nodes}: parent and frame per node, parents before children)
 * and the per-entry rest ({@code entries}: tree node, label set, count). Keeping entries instead of
 * only node totals lets the page filter by label and recompute totals without the raw stacks.
 *
 * <p>Shape: {@code {version, tool, startEpochNanos, durationNanos, periodNanos, totalSamples,
 * kinds[], strings[], frames:{name[], kind[], module[], group[]}, nodes:{parent[], frame[]},
 * labelSets:[[key, value, ...]], entries:{node[], labels[], count[], side[]}}}; names, modules and
 * groups are indexes into {@code strings}, kinds into {@code kinds}. Node 0 is the root "all"
 * (frame -1); its children are the processes. A process frame's {@code group} names what the page
 * merges it with by default (its executable's base name, or its command, plus its container); other
 * frames have -1. {@code side} is present only in a diff: 0 for the comparison's entries, 1 for the
 * baseline's.
 */
final class FlameGraphData {
    static final int VERSION = 1;
    /** Kind names in the page's order; index = frame kind in the JSON. */
    static final String[] KINDS = {"process", "kernel", "native", "lua", "lua_jit", "error", "lua_inlined"};

    private final Map<String, Integer> strings = new HashMap<>();
    private final StringBuilder stringJson = new StringBuilder();
    private final Map<FrameKey, Integer> frames = new HashMap<>();
    /** Shortcut from the model's frame, so labels are built once per distinct frame. */
    private final Map<Frame, Integer> frameIds = new HashMap<>();
    private final IntList frameName = new IntList();
    private final IntList frameKind = new IntList();
    private final IntList frameModule = new IntList();
    private final IntList frameGroup = new IntList();
    private final IntList entrySide = new IntList();
    private int side;
    /** (parent << 32 | frame) -> node. */
    private final Map<Long, Integer> children = new HashMap<>();
    private final IntList nodeParent = new IntList();
    private final IntList nodeFrame = new IntList();
    private final Map<Map<String, String>, Integer> labelSets = new HashMap<>();
    private final StringBuilder labelSetJson = new StringBuilder();
    private final IntList entryNode = new IntList();
    private final IntList entryLabels = new IntList();
    private long[] entryCount = new long[64];

    private record FrameKey(int kind, String label, String module) {
    }

    private FlameGraphData() {
        nodeParent.add(-1);
        nodeFrame.add(-1);
    }

    /** The page data for {@code profile} as script-safe JSON. */
    static String toJson(Profile profile) {
        return toJson(profile, null);
    }

    /** As {@link #toJson(Profile)}, plus the baseline's entries (side 1) when {@code baseline} is not null. */
    static String toJson(Profile profile, Profile baseline) {
        FlameGraphData d = new FlameGraphData();
        for (Profile.Entry e : profile.entries()) {
            d.add(e);
        }
        if (baseline != null) {
            d.side = 1;
            for (Profile.Entry e : baseline.entries()) {
                d.add(e);
            }
        }
        return d.json(profile, baseline != null);
    }

    private void add(Profile.Entry e) {
        if (e.count() < 0) {
            throw new IllegalArgumentException("negative sample count " + e.count()
                    + " for process " + e.process().pid() + " (" + e.process().command() + ")");
        }
        if (e.count() == 0) {
            return;
        }
        String command = e.process().command().isEmpty() ? "[unknown]" : e.process().command();
        String container = e.process().containerId().isEmpty() ? "" : ", container " + e.process().shortContainerId();
        int node = child(0, frame(0, command + " (pid " + e.process().pid() + container + ")", e.process().executable()));
        if (frameGroup.get(nodeFrame.get(node)) < 0) {
            String exe = e.process().executable();
            String base = exe.isEmpty() ? command : exe.substring(exe.lastIndexOf('/') + 1);
            frameGroup.set(nodeFrame.get(node), string(base + (container.isEmpty() ? "" : " (" + container.substring(2) + ")")));
        }
        for (Frame f : e.frames()) {
            Integer id = frameIds.get(f);
            if (id == null) {
                id = frame(kindIndex(f), f.label(), moduleOf(f));
                frameIds.put(f, id);
            }
            node = child(node, id);
        }
        // The thread is a label here so the page's label filter can pick one thread.
        Map<String, String> labels = new TreeMap<>(e.labels());
        labels.put("thread", e.threadName());
        Integer set = labelSets.get(labels);
        if (set == null) {
            set = labelSets.size();
            labelSets.put(labels, set);
            labelSetJson.append(set == 0 ? "[" : ",[");
            boolean first = true;
            for (Map.Entry<String, String> l : labels.entrySet()) {
                if (!first) {
                    labelSetJson.append(',');
                }
                first = false;
                labelSetJson.append(string(l.getKey())).append(',').append(string(l.getValue()));
            }
            labelSetJson.append(']');
        }
        int index = entryNode.size();
        entryNode.add(node);
        entryLabels.add(set);
        entrySide.add(side);
        if (index == entryCount.length) {
            entryCount = Arrays.copyOf(entryCount, index * 2);
        }
        entryCount[index] = e.count();
    }

    private static int kindIndex(Frame f) {
        return switch (f.kind()) {
            case KERNEL -> 1;
            case NATIVE -> 2;
            case INTERPRETED -> f.inlined() ? 6 : f.jit() ? 4 : 3;
            case ERROR -> 5;
        };
    }

    /** What the tooltip names after the kind: the mapped file of native and kernel code, the Lua chunk. */
    private static String moduleOf(Frame f) {
        return f.kind() == FrameKind.INTERPRETED ? f.file() : f.mapping().fileName();
    }

    private int frame(int kind, String label, String module) {
        FrameKey key = new FrameKey(kind, label, module);
        Integer id = frames.get(key);
        if (id == null) {
            id = frameName.size();
            frames.put(key, id);
            frameName.add(string(label));
            frameKind.add(kind);
            frameModule.add(string(module));
            frameGroup.add(-1);
        }
        return id;
    }

    private int child(int parent, int frame) {
        long key = ((long) parent << 32) | frame;
        Integer node = children.get(key);
        if (node == null) {
            node = nodeParent.size();
            children.put(key, node);
            nodeParent.add(parent);
            nodeFrame.add(frame);
        }
        return node;
    }

    private int string(String s) {
        Integer id = strings.get(s);
        if (id == null) {
            id = strings.size();
            strings.put(s, id);
            if (id > 0) {
                stringJson.append(',');
            }
            ScriptSafeJson.appendString(stringJson, s);
        }
        return id;
    }

    private String json(Profile p, boolean diff) {
        long total = 0;
        for (int i = 0; i < entryNode.size(); i++) {
            if (entrySide.get(i) == 0) { // a diff's total is the comparison's
                total = Math.addExact(total, entryCount[i]);
            }
        }
        StringBuilder sb = new StringBuilder(stringJson.length() + 16 * nodeParent.size() + 24 * entryNode.size() + 1024);
        sb.append("{\"version\":").append(VERSION)
                .append(",\"tool\":\"moonwalk\"")
                .append(",\"startEpochNanos\":").append(p.startEpochNanos())
                .append(",\"durationNanos\":").append(p.durationNanos())
                .append(",\"periodNanos\":").append(p.periodNanos())
                .append(",\"totalSamples\":").append(total)
                .append(",\"sampleType\":");
        ScriptSafeJson.appendString(sb, p.sampleType().type());
        sb.append(",\"sampleUnit\":");
        ScriptSafeJson.appendString(sb, p.sampleType().unit());
        sb.append(",\"kinds\":[");
        for (int i = 0; i < KINDS.length; i++) {
            sb.append(i == 0 ? "" : ",");
            ScriptSafeJson.appendString(sb, KINDS[i]);
        }
        sb.append("],\n\"strings\":[").append(stringJson).append("],\n\"frames\":{\"name\":");
        frameName.appendJson(sb);
        sb.append(",\"kind\":");
        frameKind.appendJson(sb);
        sb.append(",\"module\":");
        frameModule.appendJson(sb);
        sb.append(",\"group\":");
        frameGroup.appendJson(sb);
        sb.append("},\n\"nodes\":{\"parent\":");
        nodeParent.appendJson(sb);
        sb.append(",\"frame\":");
        nodeFrame.appendJson(sb);
        sb.append("},\n\"labelSets\":[").append(labelSetJson).append("],\n\"entries\":{\"node\":");
        entryNode.appendJson(sb);
        sb.append(",\"labels\":");
        entryLabels.appendJson(sb);
        sb.append(",\"count\":[");
        for (int i = 0; i < entryNode.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(entryCount[i]);
        }
        sb.append(']');
        if (diff) {
            sb.append(",\"side\":");
            entrySide.appendJson(sb);
        }
        sb.append("}}");
        return sb.toString();
    }

    /** Growable int array; the tree of 50k stacks has ~10^6 nodes, too many to box. */
    private static final class IntList {
        private int[] values = new int[256];
        private int size;

        void add(int v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int size() {
            return size;
        }

        int get(int i) {
            return values[i];
        }

        void set(int i, int v) {
            values[i] = v;
        }

        void appendJson(StringBuilder sb) {
            sb.append('[');
            for (int i = 0; i < size; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(values[i]);
            }
            sb.append(']');
        }
    }
}
