package io.moonwalk.agent.store;

import io.moonwalk.agent.profile.SampleType;

/**
 * The kinds of profile the store keeps, each in files and an index of its own in the one store directory, and how the
 * web view and the metrics name them. The CPU kind keeps the file names and index of the first agents, so their
 * stores are read as they are.
 */
public enum ProfileKind {
    /** CPU samples, always recorded. */
    CPU(SampleType.CPU, "cpu", "window-", "index-v1.tsv", "CPU"),
    /** Time blocked off CPU ({@code --off-cpu}). */
    OFF_CPU(SampleType.OFF_CPU, "offcpu", "offcpu-", "index-offcpu-v1.tsv", "off-CPU (time blocked)"),
    /** mmap, munmap and mprotect calls of LuaJIT processes ({@code --mmap-events}). */
    MMAP(SampleType.MMAP, "mmap", "mmap-", "index-mmap-v1.tsv", "mmap calls");

    private final SampleType sampleType;
    private final String id;
    private final String filePrefix;
    private final String indexFile;
    private final String title;

    ProfileKind(SampleType sampleType, String id, String filePrefix, String indexFile, String title) {
        this.sampleType = sampleType;
        this.id = id;
        this.filePrefix = filePrefix;
        this.indexFile = indexFile;
        this.title = title;
    }

    /** What the kind's windows measure. */
    public SampleType sampleType() {
        return sampleType;
    }

    /** The kind's name in URLs ({@code type=}) and in the metrics' {@code profile} label. */
    public String id() {
        return id;
    }

    /** File name prefix of the kind's windows. */
    public String filePrefix() {
        return filePrefix;
    }

    /** The kind's index file in the store directory. */
    public String indexFile() {
        return indexFile;
    }

    /** How the web view names the kind. */
    public String title() {
        return title;
    }

    /** The kind of {@code type}, or null when the store keeps no such profiles. */
    public static ProfileKind of(SampleType type) {
        for (ProfileKind k : values()) {
            if (k.sampleType.equals(type)) {
                return k;
            }
        }
        return null;
    }

    /** The kind named {@code id} in a URL, or null. */
    public static ProfileKind byId(String id) {
        for (ProfileKind k : values()) {
            if (k.id.equals(id)) {
                return k;
            }
        }
        return null;
    }
}
