package io.moonwalk.bpf.maps;

/**
 * Linux errno values that map operations report (as negative return codes), named once for both
 * {@link BpfMaps} implementations and their callers.
 */
public final class Errno {
    private Errno() {}

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EACCES = 13;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
}
