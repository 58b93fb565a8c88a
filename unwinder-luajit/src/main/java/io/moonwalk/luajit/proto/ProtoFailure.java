package io.moonwalk.luajit.proto;

/** Why a proto could not be used. Each reason is counted; none of them ever yields a name. */
public enum ProtoFailure implements ProtoResult {
    /** The address now holds a proto with another fingerprint (freed and reused since the sample). */
    STALE,
    /** The target process is gone. */
    PROCESS_GONE,
    /** The memory could not be read (unmapped, partial, denied). */
    UNREADABLE,
    /** GC type byte is not a proto. */
    BAD_TYPE,
    /** sizebc / sizept out of range or inconsistent, or the proto exceeds {@link ProtoReader#MAX_PROTO_BYTES}. */
    BAD_SIZES,
    /** Instruction 0 is not a Lua function header. */
    BAD_HEADER_OP,
    /** k / uv / lineinfo / uvinfo / varinfo are not where the allocation layout puts them. */
    BAD_LAYOUT,
    /** chunkname is not a sane string (type, length, terminator, UTF-8). */
    BAD_CHUNKNAME,
    /** firstline / numline / a lineinfo delta out of range. */
    BAD_LINES,
    /** A GCfunc that is not a Lua function, or whose pc does not point right after a proto header. */
    NOT_LUA_FUNCTION;
}
