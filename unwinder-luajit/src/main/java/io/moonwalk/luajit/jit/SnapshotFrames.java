package io.moonwalk.luajit.jit;

import java.util.Arrays;

/**
 * The Lua frames a compiled trace was running at one machine-code position, recovered from the trace's
 * snapshot covering it: the frame the trace runs in (its base, at {@code g->jit_base}) and the calls LuaJIT
 * inlined above it, outermost first.
 *
 * @param protos       GCproto addresses; [0] the base frame's, then each inlined callee's
 * @param fingerprints each proto's fingerprint ({@link io.moonwalk.luajit.proto.ProtoFingerprint}) when read
 * @param pcs          bytecode index of each frame: the call instruction for all but the last, the bytecode the
 *                     snapshot resumes at for the last (its current line)
 * @param snapshot     the snapshot's number in its trace
 */
public record SnapshotFrames(long[] protos, long[] fingerprints, int[] pcs, int snapshot) implements SnapshotResult {
    public SnapshotFrames {
        if (protos.length == 0 || protos.length != fingerprints.length || protos.length != pcs.length) {
            throw new IllegalArgumentException("frames: " + protos.length + " protos, " + fingerprints.length
                    + " fingerprints, " + pcs.length + " pcs");
        }
        protos = protos.clone();
        fingerprints = fingerprints.clone();
        pcs = pcs.clone();
    }

    /** Frames, the base frame included. */
    public int size() {
        return protos.length;
    }

    public long proto(int i) {
        return protos[i];
    }

    public long fingerprint(int i) {
        return fingerprints[i];
    }

    public int pc(int i) {
        return pcs[i];
    }

    /** Inlined frames above the base frame. */
    public int inlined() {
        return protos.length - 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotFrames f && snapshot == f.snapshot && Arrays.equals(protos, f.protos)
                && Arrays.equals(fingerprints, f.fingerprints) && Arrays.equals(pcs, f.pcs);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(protos) + Arrays.hashCode(pcs)) + snapshot;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SnapshotFrames[snapshot ").append(snapshot);
        for (int i = 0; i < protos.length; i++) {
            sb.append(i == 0 ? ": " : " -> ").append("0x").append(Long.toHexString(protos[i])).append('@')
                    .append(pcs[i]);
        }
        return sb.append(']').toString();
    }
}
