#!/usr/bin/env python3
"""Corrupts a GC64 LuaJIT core for the replay case luajit-corrupt: the leaf Lua frame's link (the slot below BASE,
which the interpreter keeps in rdx) becomes 0x4141414141414140, a return PC into unmapped memory. A correct walker
names the leaf frame, then gives an error frame in place of the callers on that Lua stack (never a wrong frame).
    patch-core.py IN OUT"""
import struct
import sys


def main():
    data = bytearray(open(sys.argv[1], "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phnum, = struct.unpack_from("<H", data, 0x38)
    phdrs = [struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i) for i in range(phnum)]
    rdx = None
    for typ, _f, off, _v, _p, filesz, _m, _a in phdrs:
        if typ != 4:
            continue
        pos, end = off, off + filesz
        while pos + 12 <= end and rdx is None:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            if ntype == 1 and data[pos + 12:pos + 16] == b"CORE":
                rdx, = struct.unpack_from("<Q", data, desc + 112 + 8 * 12)
            pos = desc + ((descsz + 3) & ~3)
    if rdx is None:
        sys.exit("no NT_PRSTATUS")
    addr = rdx - 8
    for typ, _f, off, vaddr, _p, filesz, _m, _a in phdrs:
        if typ == 1 and vaddr <= addr < vaddr + filesz:
            struct.pack_into("<Q", data, off + addr - vaddr, 0x4141414141414140)
            open(sys.argv[2], "wb").write(data)
            print("patched the frame link at 0x%x" % addr)
            return
    sys.exit("0x%x is not in the core" % addr)


if __name__ == "__main__":
    main()
