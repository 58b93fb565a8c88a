package io.moonwalk.luajit.detect;

/** The bytes at an address are not an instruction this decoder knows (or run past the buffer). */
public final class X86DecodeException extends Exception {
    private final long address;

    public X86DecodeException(long address, String message) {
        super(message + " at 0x" + Long.toHexString(address));
        this.address = address;
    }

    public long address() {
        return address;
    }
}
