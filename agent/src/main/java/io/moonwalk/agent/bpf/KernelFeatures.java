package io.moonwalk.agent.bpf;

import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.bpf.maps.Errno;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel features the programs need, probed one by one before the object is loaded, so that a kernel too
 * old for them is refused with one line naming the missing feature instead of a verifier dump. What the probes
 * cannot see (e.g. bounded loops, verifier limits) still reaches the verifier, whose refusal
 * {@link #verifierRefusal} turns into one line too.
 */
final class KernelFeatures {
    private static final System.Logger LOG = System.getLogger(KernelFeatures.class.getName());

    /** The oldest kernel the programs were loaded and sampled on (scripts/kernel-matrix). */
    static final String MINIMUM_TESTED = "5.10";
    private static final Path OSRELEASE = Path.of("/proc/sys/kernel/osrelease");

    private record Helper(int id, String name, String since) {
    }

    /** The helpers the programs call unconditionally (the pt_regs ones have a fallback in the object). */
    private static final List<Helper> HELPERS = List.of(
            new Helper(libbpf_h.BPF_FUNC_tail_call(), "bpf_tail_call", "4.2"),
            new Helper(libbpf_h.BPF_FUNC_get_stack(), "bpf_get_stack", "4.18"),
            new Helper(libbpf_h.BPF_FUNC_probe_read_user(), "bpf_probe_read_user", "5.5"),
            new Helper(libbpf_h.BPF_FUNC_probe_read_kernel(), "bpf_probe_read_kernel", "5.5"),
            new Helper(libbpf_h.BPF_FUNC_ringbuf_output(), "bpf_ringbuf_output", "5.8"));

    private KernelFeatures() {}

    /** Throws a {@link BpfException#kernelRefused() kernel refusal} naming the first missing feature. */
    static void require(Path btf) {
        if (!Files.exists(btf)) {
            throw BpfException.kernelRefused("kernel " + release() + " has no BTF (" + btf + "): moonwalk needs a kernel"
                    + " built with CONFIG_DEBUG_INFO_BTF=y (tested from " + MINIMUM_TESTED + ")", 0);
        }
        if (!Files.isReadable(btf)) {
            throw new BpfException("kernel BTF " + btf + " is not readable: " + BpfException.NEED_PRIVILEGES);
        }
        // libbpf's probes answer "no" for any failure, missing privileges included: a map type every BPF
        // kernel has tells whether the probes can see anything; if not, the load reports what is wrong
        if (libbpf_h.libbpf_probe_bpf_map_type(libbpf_h.BPF_MAP_TYPE_ARRAY(), MemorySegment.NULL) != 1) {
            LOG.log(Level.DEBUG, "kernel feature probes cannot run (no BPF privileges?); loading without them");
            return;
        }
        int rc = libbpf_h.libbpf_probe_bpf_map_type(libbpf_h.BPF_MAP_TYPE_RINGBUF(), MemorySegment.NULL);
        check(rc, "the BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8)", "probing BPF map type RINGBUF");
        for (Helper h : HELPERS) {
            rc = libbpf_h.libbpf_probe_bpf_helper(libbpf_h.BPF_PROG_TYPE_PERF_EVENT(), h.id(), MemorySegment.NULL);
            check(rc, "the BPF helper " + h.name() + " for perf_event programs (Linux " + h.since() + ")",
                    "probing BPF helper " + h.name());
        }
    }

    private static void check(int rc, String feature, String probe) {
        if (rc == 0) {
            throw BpfException.kernelRefused("kernel " + release() + " lacks " + feature + ": moonwalk needs Linux "
                    + MINIMUM_TESTED + " or newer", 0);
        }
        if (rc < 0) {
            int e = -rc;
            if (e == Errno.EPERM || e == Errno.EACCES) {
                throw BpfException.of(probe, rc, null);
            }
            // a probe that cannot decide is no refusal: the load itself will tell
            LOG.log(Level.WARNING, "{0} failed ({1}); loading anyway", probe, BpfException.strerror(e));
        }
    }

    /**
     * The one line a verifier refusal starts with: which program, the verifier's own reason, which kernel.
     * {@code program} and {@code reason} may be null when libbpf's log did not carry them.
     */
    static String verifierRefusal(String program, String reason, int errno) {
        return "the BPF verifier of kernel " + release() + " rejected program "
                + (program == null ? "(unknown)" : program) + (reason == null ? "" : ": " + reason)
                + " (errno " + errno + "); this build is tested on Linux " + MINIMUM_TESTED
                + "+ kernels; report this kernel with the log below";
    }

    static String release() {
        try {
            return Files.readString(OSRELEASE).strip();
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.version", "?");
        }
    }
}
