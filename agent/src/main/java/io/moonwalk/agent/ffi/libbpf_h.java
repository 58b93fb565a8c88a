package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * bpf/libbpf.h and bpf/bpf.h (libbpf 1.x, {@code libbpf.so.1}), in the shape jextract generates:
 * one wrapper per C function, named like the C symbol. Only what moonwalk uses is bound.
 *
 * <p>Pointer-returning functions report failure as NULL + errno, so they are bound with errno
 * capture and take a leading call-state segment ({@link errno_h#allocateCallState}). Int-returning
 * libbpf functions return {@code -errno} themselves.
 *
 * <p>Each handle is created on first use (holder classes), so a host without libbpf fails at the
 * first call with an {@link ExceptionInInitializerError} instead of at class load of the agent.
 */
public final class libbpf_h {
    private libbpf_h() {}

    public static final ValueLayout.OfInt C_INT = JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = JAVA_LONG;
    public static final ValueLayout.OfLong C_SIZE_T = JAVA_LONG;
    public static final AddressLayout C_POINTER = ADDRESS;

    /** enum libbpf_print_level */
    public static final int LIBBPF_WARN = 0;
    public static final int LIBBPF_INFO = 1;
    public static final int LIBBPF_DEBUG = 2;

    /** enum bpf_stats_type */
    public static final int BPF_STATS_RUN_TIME = 0;

    /** map update flags */
    public static final long BPF_ANY = 0;

    public static final String LIBRARY = "libbpf.so.1";

    private static final class Lib {
        static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
    }

    static MethodHandle downcall(String name, FunctionDescriptor desc, Linker.Option... options) {
        MemorySegment address = Lib.LOOKUP.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError(LIBRARY + " has no symbol " + name + " (libbpf too old? need 1.0+)"));
        return Linker.nativeLinker().downcallHandle(address, desc, options);
    }

    /** invokeExact declares Throwable; downcalls throw only unchecked ones, rethrown as they are. */
    static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }

    // ---- libbpf.h: logging, version, errors ----

    private static final class libbpf_set_print$ {
        static final MethodHandle MH = downcall("libbpf_set_print", FunctionDescriptor.of(C_POINTER, C_POINTER));
    }

    /** {@code libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn)} */
    public static MemorySegment libbpf_set_print(MemorySegment fn) {
        try {
            return (MemorySegment) libbpf_set_print$.MH.invokeExact(fn);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class libbpf_strerror$ {
        static final MethodHandle MH = downcall("libbpf_strerror",
                FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_SIZE_T));
    }

    /** {@code int libbpf_strerror(int err, char *buf, size_t size)} */
    public static int libbpf_strerror(int err, MemorySegment buf, long size) {
        try {
            return (int) libbpf_strerror$.MH.invokeExact(err, buf, size);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class libbpf_num_possible_cpus$ {
        static final MethodHandle MH = downcall("libbpf_num_possible_cpus", FunctionDescriptor.of(C_INT));
    }

    /** {@code int libbpf_num_possible_cpus(void)} */
    public static int libbpf_num_possible_cpus() {
        try {
            return (int) libbpf_num_possible_cpus$.MH.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class libbpf_major_version$ {
        static final MethodHandle MH = downcall("libbpf_major_version", FunctionDescriptor.of(C_INT));
    }

    /** {@code __u32 libbpf_major_version(void)} */
    public static int libbpf_major_version() {
        try {
            return (int) libbpf_major_version$.MH.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class libbpf_minor_version$ {
        static final MethodHandle MH = downcall("libbpf_minor_version", FunctionDescriptor.of(C_INT));
    }

    /** {@code __u32 libbpf_minor_version(void)} */
    public static int libbpf_minor_version() {
        try {
            return (int) libbpf_minor_version$.MH.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- libbpf.h: feature probes ----

    /** enum bpf_prog_type */
    public static final int BPF_PROG_TYPE_PERF_EVENT = 7;
    /** enum bpf_map_type */
    public static final int BPF_MAP_TYPE_ARRAY = 2;
    public static final int BPF_MAP_TYPE_RINGBUF = 27;
    /** enum bpf_func_id (uapi; stable numbers) */
    public static final int BPF_FUNC_tail_call = 12;
    public static final int BPF_FUNC_get_stack = 67;
    public static final int BPF_FUNC_probe_read_user = 112;
    public static final int BPF_FUNC_probe_read_kernel = 113;
    public static final int BPF_FUNC_ringbuf_output = 130;

    private static final class libbpf_probe_bpf_map_type$ {
        static final MethodHandle MH = downcall("libbpf_probe_bpf_map_type",
                FunctionDescriptor.of(C_INT, C_INT, C_POINTER));
    }

    /** {@code int libbpf_probe_bpf_map_type(enum bpf_map_type map_type, const void *opts)}: 1 yes, 0 no, <0 error */
    public static int libbpf_probe_bpf_map_type(int mapType, MemorySegment opts) {
        try {
            return (int) libbpf_probe_bpf_map_type$.MH.invokeExact(mapType, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class libbpf_probe_bpf_helper$ {
        static final MethodHandle MH = downcall("libbpf_probe_bpf_helper",
                FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER));
    }

    /**
     * {@code int libbpf_probe_bpf_helper(enum bpf_prog_type prog_type, enum bpf_func_id helper_id, const void *opts)}:
     * 1 yes, 0 no, <0 error
     */
    public static int libbpf_probe_bpf_helper(int progType, int helperId, MemorySegment opts) {
        try {
            return (int) libbpf_probe_bpf_helper$.MH.invokeExact(progType, helperId, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- libbpf.h: objects ----

    private static final class bpf_object__open_mem$ {
        static final MethodHandle MH = downcall("bpf_object__open_mem",
                FunctionDescriptor.of(C_POINTER, C_POINTER, C_SIZE_T, C_POINTER), errno_h.CAPTURE_ERRNO);
    }

    /** {@code struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz, const struct bpf_object_open_opts *opts)} */
    public static MemorySegment bpf_object__open_mem(MemorySegment callState, MemorySegment obj_buf, long obj_buf_sz,
            MemorySegment opts) {
        try {
            return (MemorySegment) bpf_object__open_mem$.MH.invokeExact(callState, obj_buf, obj_buf_sz, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_object__load$ {
        static final MethodHandle MH = downcall("bpf_object__load", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code int bpf_object__load(struct bpf_object *obj)} */
    public static int bpf_object__load(MemorySegment obj) {
        try {
            return (int) bpf_object__load$.MH.invokeExact(obj);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_object__close$ {
        static final MethodHandle MH = downcall("bpf_object__close", FunctionDescriptor.ofVoid(C_POINTER));
    }

    /** {@code void bpf_object__close(struct bpf_object *obj)} */
    public static void bpf_object__close(MemorySegment obj) {
        try {
            bpf_object__close$.MH.invokeExact(obj);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_object__find_program_by_name$ {
        static final MethodHandle MH = downcall("bpf_object__find_program_by_name",
                FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER), errno_h.CAPTURE_ERRNO);
    }

    /** {@code struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name)} */
    public static MemorySegment bpf_object__find_program_by_name(MemorySegment callState, MemorySegment obj,
            MemorySegment name) {
        try {
            return (MemorySegment) bpf_object__find_program_by_name$.MH.invokeExact(callState, obj, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_object__find_map_by_name$ {
        static final MethodHandle MH = downcall("bpf_object__find_map_by_name",
                FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER), errno_h.CAPTURE_ERRNO);
    }

    /** {@code struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name)} */
    public static MemorySegment bpf_object__find_map_by_name(MemorySegment callState, MemorySegment obj,
            MemorySegment name) {
        try {
            return (MemorySegment) bpf_object__find_map_by_name$.MH.invokeExact(callState, obj, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- libbpf.h: maps ----

    private static final class bpf_map__set_max_entries$ {
        static final MethodHandle MH = downcall("bpf_map__set_max_entries",
                FunctionDescriptor.of(C_INT, C_POINTER, C_INT));
    }

    /** {@code int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries)} */
    public static int bpf_map__set_max_entries(MemorySegment map, int max_entries) {
        try {
            return (int) bpf_map__set_max_entries$.MH.invokeExact(map, max_entries);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__fd$ {
        static final MethodHandle MH = downcall("bpf_map__fd", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code int bpf_map__fd(const struct bpf_map *map)} */
    public static int bpf_map__fd(MemorySegment map) {
        try {
            return (int) bpf_map__fd$.MH.invokeExact(map);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__update_elem$ {
        static final MethodHandle MH = downcall("bpf_map__update_elem",
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_SIZE_T, C_POINTER, C_SIZE_T, C_LONG));
    }

    /** {@code int bpf_map__update_elem(const struct bpf_map *map, const void *key, size_t key_sz, const void *value, size_t value_sz, __u64 flags)} */
    public static int bpf_map__update_elem(MemorySegment map, MemorySegment key, long key_sz, MemorySegment value,
            long value_sz, long flags) {
        try {
            return (int) bpf_map__update_elem$.MH.invokeExact(map, key, key_sz, value, value_sz, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__lookup_elem$ {
        static final MethodHandle MH = downcall("bpf_map__lookup_elem",
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_SIZE_T, C_POINTER, C_SIZE_T, C_LONG));
    }

    /** {@code int bpf_map__lookup_elem(const struct bpf_map *map, const void *key, size_t key_sz, void *value, size_t value_sz, __u64 flags)} */
    public static int bpf_map__lookup_elem(MemorySegment map, MemorySegment key, long key_sz, MemorySegment value,
            long value_sz, long flags) {
        try {
            return (int) bpf_map__lookup_elem$.MH.invokeExact(map, key, key_sz, value, value_sz, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__delete_elem$ {
        static final MethodHandle MH = downcall("bpf_map__delete_elem",
                FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_SIZE_T, C_LONG));
    }

    /** {@code int bpf_map__delete_elem(const struct bpf_map *map, const void *key, size_t key_sz, __u64 flags)} */
    public static int bpf_map__delete_elem(MemorySegment map, MemorySegment key, long key_sz, long flags) {
        try {
            return (int) bpf_map__delete_elem$.MH.invokeExact(map, key, key_sz, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__max_entries$ {
        static final MethodHandle MH = downcall("bpf_map__max_entries", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code __u32 bpf_map__max_entries(const struct bpf_map *map)} */
    public static int bpf_map__max_entries(MemorySegment map) {
        try {
            return (int) bpf_map__max_entries$.MH.invokeExact(map);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__key_size$ {
        static final MethodHandle MH = downcall("bpf_map__key_size", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code __u32 bpf_map__key_size(const struct bpf_map *map)} */
    public static int bpf_map__key_size(MemorySegment map) {
        try {
            return (int) bpf_map__key_size$.MH.invokeExact(map);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map__value_size$ {
        static final MethodHandle MH = downcall("bpf_map__value_size", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code __u32 bpf_map__value_size(const struct bpf_map *map)} */
    public static int bpf_map__value_size(MemorySegment map) {
        try {
            return (int) bpf_map__value_size$.MH.invokeExact(map);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_map_update_batch$ {
        static final MethodHandle MH = downcall("bpf_map_update_batch",
                FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
    }

    /** {@code int bpf_map_update_batch(int fd, const void *keys, const void *values, __u32 *count, const struct bpf_map_batch_opts *opts)}: 0 or -errno; *count = elements written */
    public static int bpf_map_update_batch(int fd, MemorySegment keys, MemorySegment values, MemorySegment count,
            MemorySegment opts) {
        try {
            return (int) bpf_map_update_batch$.MH.invokeExact(fd, keys, values, count, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- libbpf.h: programs and links ----

    private static final class bpf_program__fd$ {
        static final MethodHandle MH = downcall("bpf_program__fd", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code int bpf_program__fd(const struct bpf_program *prog)} */
    public static int bpf_program__fd(MemorySegment prog) {
        try {
            return (int) bpf_program__fd$.MH.invokeExact(prog);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_program__attach_perf_event$ {
        static final MethodHandle MH = downcall("bpf_program__attach_perf_event",
                FunctionDescriptor.of(C_POINTER, C_POINTER, C_INT), errno_h.CAPTURE_ERRNO);
    }

    /** {@code struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *prog, int pfd)} */
    public static MemorySegment bpf_program__attach_perf_event(MemorySegment callState, MemorySegment prog, int pfd) {
        try {
            return (MemorySegment) bpf_program__attach_perf_event$.MH.invokeExact(callState, prog, pfd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_program__attach_tracepoint$ {
        static final MethodHandle MH = downcall("bpf_program__attach_tracepoint",
                FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER, C_POINTER), errno_h.CAPTURE_ERRNO);
    }

    /** {@code struct bpf_link *bpf_program__attach_tracepoint(const struct bpf_program *prog, const char *tp_category, const char *tp_name)} */
    public static MemorySegment bpf_program__attach_tracepoint(MemorySegment callState, MemorySegment prog,
            MemorySegment tp_category, MemorySegment tp_name) {
        try {
            return (MemorySegment) bpf_program__attach_tracepoint$.MH.invokeExact(callState, prog, tp_category, tp_name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_link__destroy$ {
        static final MethodHandle MH = downcall("bpf_link__destroy", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code int bpf_link__destroy(struct bpf_link *link)} */
    public static int bpf_link__destroy(MemorySegment link) {
        try {
            return (int) bpf_link__destroy$.MH.invokeExact(link);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- libbpf.h: ring buffer ----

    private static final class ring_buffer__new$ {
        static final MethodHandle MH = downcall("ring_buffer__new",
                FunctionDescriptor.of(C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER), errno_h.CAPTURE_ERRNO);
    }

    /** {@code struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx, const struct ring_buffer_opts *opts)} */
    public static MemorySegment ring_buffer__new(MemorySegment callState, int map_fd, MemorySegment sample_cb,
            MemorySegment ctx, MemorySegment opts) {
        try {
            return (MemorySegment) ring_buffer__new$.MH.invokeExact(callState, map_fd, sample_cb, ctx, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class ring_buffer__consume$ {
        static final MethodHandle MH = downcall("ring_buffer__consume", FunctionDescriptor.of(C_INT, C_POINTER));
    }

    /** {@code int ring_buffer__consume(struct ring_buffer *rb)} */
    public static int ring_buffer__consume(MemorySegment rb) {
        try {
            return (int) ring_buffer__consume$.MH.invokeExact(rb);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class ring_buffer__free$ {
        static final MethodHandle MH = downcall("ring_buffer__free", FunctionDescriptor.ofVoid(C_POINTER));
    }

    /** {@code void ring_buffer__free(struct ring_buffer *rb)} */
    public static void ring_buffer__free(MemorySegment rb) {
        try {
            ring_buffer__free$.MH.invokeExact(rb);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- bpf.h ----

    private static final class bpf_enable_stats$ {
        static final MethodHandle MH = downcall("bpf_enable_stats", FunctionDescriptor.of(C_INT, C_INT));
    }

    /** {@code int bpf_enable_stats(enum bpf_stats_type type)}: an fd that keeps the stats on while open, or -errno */
    public static int bpf_enable_stats(int type) {
        try {
            return (int) bpf_enable_stats$.MH.invokeExact(type);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class bpf_obj_get_info_by_fd$ {
        static final MethodHandle MH = downcall("bpf_obj_get_info_by_fd",
                FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER));
    }

    /** {@code int bpf_obj_get_info_by_fd(int bpf_fd, void *info, __u32 *info_len)} */
    public static int bpf_obj_get_info_by_fd(int bpf_fd, MemorySegment info, MemorySegment info_len) {
        try {
            return (int) bpf_obj_get_info_by_fd$.MH.invokeExact(bpf_fd, info, info_len);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
