package io.moonwalk.process;

/** Outcome of one read of another process's memory. Never thrown: hostile addresses are normal input. */
public enum ReadStatus {
    /** Every requested byte was read. */
    OK,
    /** Only a prefix was readable (the range runs into an unmapped page); the count says how much. */
    PARTIAL,
    /** Nothing readable at the address (EFAULT): unmapped, guard page, or a kernel address. */
    UNMAPPED,
    /** The process is gone (ESRCH). Stop asking about this pid. */
    NO_PROCESS,
    /** Not allowed to read this process (EPERM: no CAP_SYS_PTRACE, or Yama / a different user namespace). */
    DENIED,
    /** The request was larger than {@link ProcessMemory#MAX_READ} or had a negative length or offset. */
    TOO_LARGE,
    /** Any other errno (see {@link ProcessMemory#lastErrno()}). */
    FAILED
}
