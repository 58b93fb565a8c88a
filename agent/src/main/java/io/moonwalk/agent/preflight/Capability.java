package io.moonwalk.agent.preflight;

/** The Linux capabilities the profiler uses, with their numbers (linux/capability.h) and what they are for. */
public enum Capability {
    DAC_OVERRIDE(1, ""),
    DAC_READ_SEARCH(2, "to enter /proc/PID/map_files of processes owned by other users"),
    SYS_PTRACE(19, "to read other processes' memory, where the LuaJIT state is"),
    SYS_ADMIN(21, ""),
    SYSLOG(34, "to read the kernel symbol addresses in /proc/kallsyms that name kernel frames"),
    PERFMON(38, "to open the per-CPU sampling perf events"),
    BPF(39, "to load the BPF programs and create their maps"),
    CHECKPOINT_RESTORE(40, "to open the binaries of other processes through /proc/PID/map_files");

    private final int number;
    private final String purpose;

    Capability(int number, String purpose) {
        this.number = number;
        this.purpose = purpose;
    }

    /** The capability's number (its bit in a capability mask). */
    public int ordinalNumber() {
        return number;
    }

    /** Whether the capability set {@code mask} (as in /proc/self/status CapEff) holds this capability. */
    public boolean in(long mask) {
        return (mask & (1L << number)) != 0;
    }

    /** The name as capabilities(7) writes it, e.g. CAP_SYS_PTRACE. */
    public String capName() {
        return "CAP_" + name();
    }

    String purpose() {
        return purpose;
    }
}
